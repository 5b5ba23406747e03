"""What wallet code needs inside the API function and the outbound sender (no Lambda of its own)."""

from __future__ import annotations

from chalicelib.cards import FINDS_CARD, READS_CARDS
from chalicelib.platform.functions import BATCH_GET, DELETE, GET, PUT, QUERY, UPDATE, Function, Needs

WALLET_SECRETS = ("apple-wallet", "google-wallet", "wallet-pass-auth")
# The API function hands out passes and links (the card read through cards, signed with the card key;
# Google's link remembered), and serves Apple's web service: registrations in transactions, update tags.
API_NEEDS = Needs(tables={"wallet": (GET, PUT, UPDATE, DELETE, QUERY, BATCH_GET)}, secrets=WALLET_SECRETS) | READS_CARDS
# The sender updates the passes of changed cards: tags, registrations (a device gone is forgotten), and
# the card read again for Google's object.
OUTBOUND_NEEDS = Needs(tables={"wallet": (GET, UPDATE, DELETE, QUERY, BATCH_GET)}, secrets=WALLET_SECRETS) | FINDS_CARD
FUNCTIONS: dict[str, Function] = {}
