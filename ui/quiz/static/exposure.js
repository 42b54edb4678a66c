// HYPE-time's timed exposure (see ui/quiz/exposure.py): image for N ms by requestAnimationFrame, then a mask.
export default function (component) {
  const { data, setTriggerValue, parentElement } = component;
  let root = parentElement.querySelector('.hype-root');
  if (!root) {
    root = document.createElement('div');
    root.className = 'hype-root';
    parentElement.appendChild(root);
  }
  if (root.dataset.trial === String(data.trial)) { return; }   // a rerun of the same trial: keep going
  root.dataset.trial = String(data.trial);
  delete root.dataset.achieved;
  if (root._cleanup) { root._cleanup(); }
  const size = data.size;
  root.innerHTML = '';
  const stage = document.createElement('div');
  stage.className = 'stage';
  stage.style.width = size + 'px';
  stage.style.height = size + 'px';
  const fix = document.createElement('div');
  fix.className = 'fix';
  fix.textContent = '+';
  const img = new Image();
  const mask = new Image();
  for (const el of [img, mask]) { el.className = 'layer'; el.width = size; el.height = size; el.alt = ''; el.style.visibility = 'hidden'; }
  stage.append(fix, img, mask);
  const bar = document.createElement('div');
  bar.className = 'buttons';
  const real = document.createElement('button');
  real.textContent = 'Real (←)';
  const fake = document.createElement('button');
  fake.textContent = 'Fake (→)';
  real.disabled = fake.disabled = true;
  bar.append(real, fake);
  const note = document.createElement('p');
  note.className = 'note';
  note.textContent = 'Look at the cross: the image appears there for a moment.';
  root.append(stage, bar, note);

  let shownAt = null, maskAt = null, achieved = null, done = false, frame = 1000 / 60, last = null;
  const answer = (choice) => {
    if (done || maskAt === null) { return; }
    done = true;
    real.disabled = fake.disabled = true;
    note.textContent = 'Saving your answer…';
    setTriggerValue('answer', { trial: data.trial, choice: choice, achieved: achieved,
                                requested: data.ms, rt: Math.round(performance.now() - maskAt) });
  };
  real.onclick = () => answer('real');
  fake.onclick = () => answer('fake');
  const onKey = (e) => {
    if (e.key === 'ArrowLeft') { answer('real'); }
    else if (e.key === 'ArrowRight') { answer('fake'); }
  };
  document.addEventListener('keydown', onKey);
  root._cleanup = () => document.removeEventListener('keydown', onKey);

  const tick = (ts) => {
    if (last !== null) { frame = 0.8 * frame + 0.2 * Math.min(ts - last, 50); }
    last = ts;
    if (shownAt === null) {
      fix.style.visibility = 'hidden';
      img.style.visibility = 'visible';
      shownAt = ts;
    } else if (ts - shownAt >= data.ms - frame / 2) {
      img.style.visibility = 'hidden';
      mask.style.visibility = 'visible';
      maskAt = ts;
      achieved = ts - shownAt;
      root.dataset.achieved = achieved.toFixed(2);
      real.disabled = fake.disabled = false;
      note.textContent = 'Was it real or made by a model?';
      return;
    }
    requestAnimationFrame(tick);
  };
  img.src = data.image;
  mask.src = data.mask;
  Promise.all([img.decode(), mask.decode()]).then(() => {
    setTimeout(() => requestAnimationFrame((ts) => { last = ts; requestAnimationFrame(tick); }), data.fixation);
  });
}
