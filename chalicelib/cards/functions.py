"""What card code needs inside the API function (cards have no Lambda of their own; see platform/functions)."""

from __future__ import annotations

from chalicelib.platform.functions import BATCH_GET, GET, QUERY, Function, Needs

# Who an account covers (members and their policies, residence policies), card files, the card key,
# and the SMART Health Card revocation lists (read for the JWKS, the CRL route and /v1/verify; written
# by revoke_cards, which a refund handled by this function may call).
# What reading one person's card by member id needs (wallet_card without an account, find_insured):
# the member or residence policy and its group policy by key, and the card key that signs its QR.
FINDS_CARD = Needs(tables={"policies": (GET,), "members": (GET,), "residence-policies": (GET,)},
                   secrets=("card-signing",))
# What reading the cards of an account needs too (wallet_card with an account): its people by index.
READS_CARDS = FINDS_CARD | Needs(
    tables={"policies": (GET, BATCH_GET), "members": (GET, QUERY), "residence-policies": (GET, QUERY)},
    indexes={"members": ("by_account",), "residence-policies": ("by_account",)},
    secrets=("card-signing",),
)
API_NEEDS = READS_CARDS | Needs(
    # HEAD and presigned GETs are s3:GetObject; a refresh copies a card onto itself (Get + Put).
    s3={"cards/cards/*": ("s3:GetObject", "s3:PutObject"), "cards/crl/*": ("s3:GetObject", "s3:PutObject")},
    list_buckets=("cards",),  # without it S3 answers a HEAD of a card not drawn yet 403, not 404
)
# What another capability's function needs to call revoke_cards (a refund that ends a cover, HR
# terminating a member): the card secret (the keys and the rid's HMAC key derive from it) and the CRL
# objects, read and written conditionally. Listing the bucket makes S3 answer a CRL not written yet 404, not 403.
# Revoking also queues the update of the people's wallet passes (the wallet feature's job, sent by the sender).
REVOKES_CARDS = Needs(s3={"cards/crl/*": ("s3:GetObject", "s3:PutObject")}, list_buckets=("cards",),
                      secrets=("card-signing",), sends_outbound=True)
OUTBOUND_NEEDS = Needs()
FUNCTIONS: dict[str, Function] = {}
