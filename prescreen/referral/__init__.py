"""The referral: contact offers and consent, the handoff and its summary, delivery to the sites."""
