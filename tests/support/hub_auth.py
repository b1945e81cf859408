"""`GET /api/whoami-v2` and `GET /oauth/userinfo` on the loopback Hub, for the tokens in `hub.users`,
shaped as huggingface.co answers (tests/data/recorded/whoami_v2__*, oauth_userinfo__*): a classic token
(`role` read / write), a fine-grained one (`role: fineGrained` with scoped and global permissions) or
one made by browser login (`auth: {type: "oauth", expiresAt}`, no `accessToken`). Without a token: 401
"Invalid username or password."; an unknown token is refused by the server itself (loopback_hub.py)."""

from __future__ import annotations

import hashlib

from tests.support.loopback_hub import NO_CREDENTIALS, Response, hub_error, route


def _object_id(seed: str) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()[:24]  # the Hub's ids are 24 hex digits


def user_record(name: str, *, fullname: str | None = None, orgs: tuple[str, ...] = (),
                role: str = "fineGrained", permissions: tuple[str, ...] = ("repo.content.read",),
                token_name: str = "hfdash") -> dict:
    """A whoami-v2 answer. `role`: "read" / "write" (classic), "fineGrained" (`permissions` scoped to the
    user's own account) or "oauth" (a browser-login token: the Hub states no role or permissions)."""
    if role == "oauth":
        auth = {"type": "oauth", "expiresAt": "2027-08-05T00:00:00.000Z"}
    else:
        access = {"displayName": token_name, "role": role, "createdAt": "2026-01-05T10:00:00.000Z"}
        if role == "fineGrained":
            access["fineGrained"] = {
                "canReadGatedRepos": True, "global": ["discussion.write", "post.write"],
                "scoped": [{"entity": {"_id": _object_id(name), "type": "user", "name": name},
                            "permissions": list(permissions)}]}
        auth = {"type": "access_token", "accessToken": access}
    return {
        "type": "user", "id": _object_id(name), "name": name, "fullname": fullname or name.title(),
        "email": f"{name}@example.com", "emailVerified": True, "canPay": False, "isPro": False, "periodEnd": None,
        "avatarUrl": f"/avatars/{_object_id(name)}.svg", "billingMode": "postpaid",
        "orgs": [{"type": "org", "id": _object_id(org), "name": org, "fullname": org.title(), "email": None,
                  "canPay": False, "periodEnd": None, "avatarUrl": f"/avatars/{_object_id(org)}.svg",
                  "plan": "team", "roleInOrg": "read"} for org in orgs],
        "auth": auth,
    }


@route("GET", r"^/api/whoami-v2$")
def whoami(hub, request, match) -> Response:
    account = hub.account(request)
    return Response(200, account) if account else hub_error(401, NO_CREDENTIALS)


@route("GET", r"^/oauth/userinfo$")
def userinfo(hub, request, match) -> Response:
    """The OpenID Connect claims of the token's account."""
    account = hub.account(request)
    if account is None:
        return hub_error(401, NO_CREDENTIALS)
    return Response(200, {"sub": account["id"], "name": account["fullname"], "preferred_username": account["name"],
                          "email_verified": account["emailVerified"], "email": account["email"],
                          "isPro": account["isPro"], "picture": f"{hub.url}{account['avatarUrl']}",
                          "profile": f"{hub.url}/{account['name']}",
                          "website": f"https://example.com/{account['name']}",
                          "orgs": [{"sub": org["id"], "name": org["fullname"], "preferred_username": org["name"],
                                    "picture": f"{hub.url}{org['avatarUrl']}"}
                                   for org in account["orgs"]]})
