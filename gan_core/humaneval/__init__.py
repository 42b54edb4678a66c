"""Human evaluation: a real-vs-fake quiz whose answers go to a database, scored HYPE-style.

Sources: an app model against mnist-5k, or uploaded image sets (``imagesets``: intake and one normalising
path); 2 to 6 models ("arms") per session ranked with paired intervals (``arms``); HYPE-infinity or HYPE-time
(``staircase``); a self-contained HTML ``report``.

No Streamlit here: the page, the benchmark and the tests all use the same ``Store``.
"""
from .arms import rank_arms
from .imagesets import ImageSetError, normalise, read_image_zip
from .report import report
from .scoring import summarise
from .store import MODES, PROTOCOLS, AnswerResult, QuizError, SessionInfo, Store, TrialView, default_url

__all__ = ["AnswerResult", "ImageSetError", "MODES", "PROTOCOLS", "QuizError", "SessionInfo", "Store", "TrialView",
           "default_url", "normalise", "rank_arms", "read_image_zip", "report", "summarise"]
