"""The trial catalog the actions share, loaded once at action-server start."""
import os
from pathlib import Path

from prescreen.screening.conversation import Conversation
from prescreen.screening.planner import Planner
from prescreen.referral.conversation import ReferralConversation
from prescreen.screening.trials import load_catalog

TRIALS_DIR = Path(os.environ.get("PRESCREEN_TRIALS_DIR", Path(__file__).resolve().parent.parent / "trials"))

CATALOG = load_catalog(TRIALS_DIR)
CONVERSATION = Conversation(Planner(CATALOG))
REFERRAL = ReferralConversation(CATALOG)
