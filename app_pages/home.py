"""Home: what a GAN is, the game it plays, how it is trained, and how it fails."""
import streamlit as st

from ui.nav import link

st.title("GAN Studio")
st.markdown(
    "A **generative adversarial network** learns to make new samples that look like its training data "
    "without ever being told what the data's probability distribution is. It does this by setting two "
    "neural networks against each other."
)

st.subheader("Start here")
student, teacher = st.columns(2)
with student.container(border=True):
    st.markdown("**Learning GANs?** Three steps, about five minutes on a laptop:\n"
                "1. Train *Fast digits* and watch digits appear out of noise (under a minute).\n"
                "2. Break it on purpose: *Mode collapse on purpose* makes G draw only a few kinds of digit.\n"
                "3. Press **Fix it** beside the collapsed run and compare the cure with the failure, side by side.")
    link("train", "1. Train Fast digits", {"preset": "Fast digits"})
    link("train", "2. Mode collapse on purpose", {"preset": "Mode collapse on purpose"})
with teacher.container(border=True):
    st.markdown("**Teaching a class?** Run a quiz: create a session, show the join link and its QR code on the "
                "projector, and the class judges real digits against generated ones while the results fill in "
                "live. Then open the trained models on the Latent explorer together.")
    link("quiz", "Run a quiz (the teacher's view)", {"role": "teacher"})
    link("latent", "Explore a trained model")

st.subheader("What a GAN is")
left, right = st.columns(2)
with left:
    st.subheader("The generator G")
    st.markdown(
        "G turns a vector of random numbers **z** (the *latent code*, drawn from a simple distribution such "
        "as a Gaussian) into a sample G(z) — here, an image of a digit. It never sees a real image: all it "
        "learns comes through the discriminator's judgements."
    )
with right:
    st.subheader("The discriminator D")
    st.markdown(
        "D looks at one image and outputs D(x), its belief that x came from the real data rather than "
        "from G. It is an ordinary classifier, trained on real images (label 1) and G's images (label 0)."
    )

st.subheader("The game")
st.markdown("Goodfellow et al. (2014) wrote the contest as one value function that D maximises and G minimises:")
st.latex(r"\min_G \max_D \; V(D, G) = \mathbb{E}_{x \sim p_{\text{data}}}\big[\log D(x)\big] "
         r"+ \mathbb{E}_{z \sim p_z}\big[\log\big(1 - D(G(z))\big)\big]")
st.markdown(
    "For a fixed G the best discriminator is D\\*(x) = p_data(x) / (p_data(x) + p_G(x)). Put it back into V "
    "and G is left minimising the Jensen–Shannon divergence between the real and generated distributions, "
    "whose minimum is reached when p_G = p_data. There D\\*(x) = 1/2 everywhere: **at the equilibrium the "
    "discriminator can only guess.** That is the dashed 0.5 line on the training charts."
)

st.subheader("The training loop")
st.markdown(
    "Training alternates two small steps, over and over:\n"
    "1. **Update D** on a batch of real images and a batch of G's images (with G frozen): push D(x) up on "
    "the real ones and D(G(z)) down on the fakes.\n"
    "2. **Update G** (with D frozen): change G so that D(G(z)) goes up — fool the current D a little more.\n\n"
    "In practice G usually maximises log D(G(z)) instead of minimising log(1 − D(G(z))): the fixed point is "
    "the same, but the gradient is strong exactly when G is still bad. Some variants take several D steps "
    "per G step, or replace the loss altogether (least squares, Wasserstein, hinge)."
)
link("train", "Watch a GAN learn digits live")
link("playground", "See the two players move in 2D, one step at a time")

st.subheader("How GANs fail")
failures = [
    ("Mode collapse", "G finds a few outputs that fool D and makes only those — say, only 1s and 7s. D "
     "catches up, G jumps to other modes, and the cycle repeats instead of covering the whole data. A remedy "
     "that needs no labels: split the real images into many clusters and tell D each image's cluster, so G "
     "must fill every one (the Self-conditioned preset; the shipped DCGAN and WGAN-GP are trained this way).",
     "train", "Train a GAN that collapses on purpose", {"preset": "Mode collapse on purpose"}),
    ("Vanishing gradients", "With the original log(1 − D(G(z))) loss, a discriminator that wins easily "
     "gives G almost no gradient: the loss curve is flat and G stops learning.",
     "train", "Train with the saturating loss and a strong D", {"preset": "Vanishing gradients on purpose"}),
    ("Non-convergence", "Two players following their own gradients can circle each other forever instead of "
     "settling; losses oscillate rather than fall.",
     "playground", "Watch the players circle on toy data", None),
    ("Memorization", "A generator that copies its training images scores well on some metrics but has "
     "learned nothing new. Compare samples with their nearest training images.",
     "evaluate", "Check a model for memorization", None),
    ("Lack of interpretability", "A generator is millions of numbers: nobody wrote down where the loop of a 9 "
     "is drawn. Look at its layers' feature maps, switch units off, and find the ones a digit depends on.",
     "inside", "Look inside the generator", {"model": "mnist-cgan", "label": 9, "seed": 7}),
]
for title, text, page, label, query in failures:
    with st.container(border=True):
        st.markdown(f"**{title}.** {text}")
        link(page, label, query)

st.subheader("Explore and judge trained models")
link("latent", "Walk through the latent space of a trained generator, or draw a digit and find it there")
link("conditional", "Ask a conditional GAN for a particular digit")
link("quiz", "Run a real-vs-fake quiz with your class")
link("evaluate", "Measure models with FID, KID, precision and recall")
