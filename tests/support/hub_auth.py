"""`GET /api/whoami-v2` on the loopback Hub: answers as the real Hub does for the tokens in `hub.users`
(JSON shaped like huggingface.co's, with classic or fine-grained token permissions); 401 otherwise."""

from __future__ import annotations

import hashlib

from tests.support.loopback_hub import Response, route


def _object_id(seed: str) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()[:24]  # the Hub's ids are 24 hex digits


def user_record(name: str, *, fullname: str | None = None, orgs: tuple[str, ...] = (),
                role: str = "fineGrained", permissions: tuple[str, ...] = ("repo.content.read",),
                token_name: str = "hfdash") -> dict:
    """A whoami-v2 answer. For a fine-grained token, `permissions` are scoped to the user's own account."""
    access = {"displayName": token_name, "role": role, "createdAt": "2026-01-05T10:00:00.000Z"}
    if role == "fineGrained":
        access["fineGrained"] = {
            "canReadGatedRepos": True, "global": ["discussion.write", "post.write"],
            "scoped": [{"entity": {"_id": _object_id(name), "type": "user", "name": name},
                        "permissions": list(permissions)}]}
    return {
        "type": "user", "id": _object_id(name), "name": name, "fullname": fullname or name.title(),
        "email": f"{name}@example.com", "emailVerified": True, "canPay": False, "periodEnd": None,
        "isPro": False, "avatarUrl": f"/avatars/{_object_id(name)}.svg",
        "orgs": [{"type": "org", "id": _object_id(org), "name": org, "fullname": org.title(), "email": None,
                  "canPay": False, "periodEnd": None, "avatarUrl": f"/avatars/{_object_id(org)}.svg",
                  "roleInOrg": "read", "isEnterprise": False} for org in orgs],
        "auth": {"type": "access_token", "accessToken": access},
    }


@route("GET", r"^/api/whoami-v2$")
def whoami(hub, request, match) -> Response:
    header = request.authorization or ""
    token = header[len("Bearer "):] if header.startswith("Bearer ") else None
    if token is None or token not in hub.users:
        return Response(401, {"error": "Invalid credentials in Authorization header"},
                        {"x-error-message": "Invalid credentials in Authorization header"})
    return Response(200, hub.users[token])
