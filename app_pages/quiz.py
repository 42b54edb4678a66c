"""Real or fake? A human-evaluation quiz for a class, scored HYPE-style."""
import streamlit as st

from ui.quiz import dashboard as teacher
from ui.quiz import participant as view

st.title("Real or fake?")
st.caption("People are the final judge of generated images. Students join with a code and say which digits "
           "are real; the teacher sees how often the generator fooled them, with confidence intervals "
           "(the HYPE protocol, Zhou et al. 2019).")
s = st.session_state
if "quiz_role" not in s and st.query_params.get("role") == "teacher":   # Home's "Run a quiz" link
    s.quiz_role = "Running a session"
role = st.segmented_control("I am", ["Joining a session", "Running a session"], key="quiz_role",
                            default="Joining a session",
                            help="Students join with a code; the teacher creates a session and watches results.")
if role == "Running a session":
    if s.get("quiz_admin"):
        teacher.dashboard()
    else:
        one, several = st.tabs(["One model vs real digits", "Compare several models"])
        with one:
            teacher.create_form()
        with several:
            from ui.quiz.arms import create_compare_form

            create_compare_form(view.quiz_models(), view.quiz_store())
        teacher.open_form()
else:
    view.resume_from_link()  # a reload keeps the participant's place (?p=)
    if s.get("quiz_token"):
        view.participant()
    else:
        view.join_form()
