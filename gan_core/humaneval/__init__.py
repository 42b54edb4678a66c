"""Human evaluation: a real-vs-fake quiz whose answers go to a database, scored HYPE-style.

Sources: an app model against mnist-5k, or uploaded image sets (``imagesets``: intake and one normalising
path); 2 to 6 models ("arms") per session ranked with paired intervals (``arms``); HYPE-infinity or HYPE-time
(``staircase``); a self-contained HTML ``report``.

No Streamlit here: the page, the benchmark and the tests all use the same ``Store``.
"""
from gan_core.humaneval.arms import rank_arms
from gan_core.humaneval.imagesets import ImageSetError, normalise, read_image_zip
from gan_core.humaneval.report import report
from gan_core.humaneval.scoring import summarise
from gan_core.humaneval.store import MODES, PROTOCOLS, AnswerResult, QuizError, SessionInfo, Store, TrialView, default_url

__all__ = ["AnswerResult", "ImageSetError", "MODES", "PROTOCOLS", "QuizError", "SessionInfo", "Store", "TrialView",
           "default_url", "normalise", "rank_arms", "read_image_zip", "report", "summarise"]
