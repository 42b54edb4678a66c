"""Human evaluation: a real-vs-fake quiz whose answers go to a database, scored HYPE-style.

No Streamlit here: the page, the benchmark and the tests all use the same ``Store``.
"""
from .scoring import summarise
from .store import MODES, AnswerResult, QuizError, SessionInfo, Store, TrialView, default_url

__all__ = ["AnswerResult", "MODES", "QuizError", "SessionInfo", "Store", "TrialView", "default_url", "summarise"]
