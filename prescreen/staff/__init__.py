"""The staff side: accounts, sessions and tokens, and what staff may see and do."""
