"""One small family of errors whose messages are fit to show a user.

Every service turns library and HTTP failures into these at its edge (`from_exception`), so pages and
the CLI catch meaning, not status codes. Messages never contain a token.
"""

from __future__ import annotations

import email.utils
import time

from hfdash.vocab import model_url


class HfdashError(Exception):
    """Base: `str(err)` is the user-facing message; `hint` says what to do about it."""

    title = "Error"

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def user_message(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


class BadParameters(HfdashError):
    title = "Bad parameters"


class InvalidToken(HfdashError):
    title = "Invalid token"


class MissingCredentials(InvalidToken):
    """A call that needs a token or key was made without one: nothing was refused, nothing is wrong with a token."""

    title = "Token or key needed"


class Forbidden(HfdashError):
    title = "Forbidden"


class NotFound(HfdashError):
    title = "Not found"


class Gated(HfdashError):
    title = "Gated model"

    def __init__(self, message: str, *, repo_id: str | None = None, hint: str | None = None):
        self.url = model_url(repo_id) if repo_id else None
        if hint is None and self.url:
            hint = f"Accept its terms at {self.url}, then use a token of that account."
        super().__init__(message, hint=hint)


class PaymentRequired(HfdashError):
    title = "Payment required"


class RateLimited(HfdashError):
    title = "Rate limited"

    def __init__(self, message: str, *, retry_after: float | None = None, hint: str | None = None):
        self.retry_after = retry_after
        if hint is None and retry_after is not None:
            hint = f"Retry in {retry_after:.0f} s."
        super().__init__(message, hint=hint)


class Unavailable(HfdashError):
    title = "Unavailable"


class Timeout(HfdashError):
    title = "Timed out"


class TooLarge(HfdashError):
    title = "Too large for this machine"


class SnapshotError(HfdashError):
    title = "Snapshot unreadable"


# The Hub's X-Error-Message for a token it does not know; any other 401 on a repo means "not visible
# to this caller" (missing, private, or gated and anonymous), not a bad token.
INVALID_CREDENTIALS = "Invalid credentials in Authorization header"


def retry_after_seconds(headers) -> float | None:
    """Retry-After as seconds (delta or HTTP date), else the reset of the Hub's `RateLimit` header
    (`"api";r=0;t=55`), else an older `RateLimit-Reset`; None if absent."""
    if headers is None:
        return None
    value = headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(value)
            if parsed is not None:
                return max(0.0, parsed.timestamp() - time.time())
    from huggingface_hub.utils import parse_ratelimit_headers

    if (limits := parse_ratelimit_headers(headers)) is not None:
        return float(limits.reset_in_seconds)
    reset = headers.get("ratelimit-reset") or headers.get("x-ratelimit-reset")
    try:
        return max(0.0, float(reset)) if reset else None
    except ValueError:
        return None


def from_status(status: int, *, what: str, repo_id: str | None = None, headers=None,
                detail: str | None = None) -> HfdashError:
    """Map an HTTP status from the Hub or an inference server to a typed error about `what`.
    The Hub's X-Error-Code / X-Error-Message headers decide before the status does."""
    extra = f" ({detail})" if detail else ""
    code = headers.get("x-error-code") if headers is not None else None
    message = headers.get("x-error-message") if headers is not None else None
    if code == "GatedRepo" or (status == 403 and detail and "gated" in detail.lower()):
        if status == 401:
            return Gated(f"{what}: {repo_id or 'this model'} is gated and needs a token.", repo_id=repo_id,
                         hint="Enter a token on the Settings page, of an account that accepted its terms.")
        return Gated(f"{what}: {repo_id or 'this model'} is gated{extra}.", repo_id=repo_id)
    if code in ("RepoNotFound", "EntryNotFound", "RevisionNotFound") or (
            status == 401 and repo_id and message != INVALID_CREDENTIALS):
        return NotFound(f"{what}: {repo_id or 'it'} was not found, or is private to another account{extra}.",
                        hint="Check the id; a private repo needs a token of an account that can see it.")
    if status == 401:
        return InvalidToken(f"{what}: the token was refused (401){extra}.",
                            hint="Check or replace it on the Settings page.")
    if status == 402:
        return PaymentRequired(f"{what}: payment required (402){extra}.",
                               hint="Your included credits are used up; add credits or pick another provider.")
    if status == 403:
        if message == "Access to this resource is disabled.":
            return Forbidden(f"{what}: {repo_id or 'this repo'} has been disabled on the Hub.")
        return Forbidden(f"{what}: the token lacks a permission this call needs (403){extra}.",
                         hint="For hosted inference use a fine-grained token with "
                              "'Make calls to Inference Providers'.")
    if status == 404:
        return NotFound(f"{what}: not found (404){extra}.")
    if status in (400, 413, 422):
        return BadParameters(f"{what}: the server rejected the parameters ({status}){extra}.")
    if status == 429:
        return RateLimited(f"{what}: rate limited (429){extra}.", retry_after=retry_after_seconds(headers))
    if status == 504:
        return Timeout(f"{what}: the server timed out (504){extra}.")
    if status >= 500:
        return Unavailable(f"{what}: the server is unavailable or still loading ({status}){extra}.",
                           hint="Try again shortly.")
    return HfdashError(f"{what}: unexpected HTTP status {status}{extra}.")


def _server_words(exc) -> str | None:
    """The server's own message: the Hub's `{"error": "..."}`, or a provider's OpenAI-style
    `{"error": {"message": ...}}` passed through by the router (not its dict)."""
    try:
        error = exc.response.json().get("error")
    except Exception:  # noqa: BLE001 - not JSON (or not readable): the library's reading stands
        error = None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return error["message"]
    return error if isinstance(error, str) else exc.server_message


def from_exception(exc: BaseException, *, what: str, repo_id: str | None = None) -> HfdashError:
    """Turn a huggingface_hub / httpx2 failure into a typed, user-facing error."""
    if isinstance(exc, HfdashError):
        return exc
    import httpx2
    from huggingface_hub import errors as hf_errors

    if isinstance(exc, hf_errors.OfflineModeIsEnabled):
        return Unavailable(f"{what}: HF_HUB_OFFLINE is set, so the Hub is not contacted.")
    if isinstance(exc, hf_errors.InferenceTimeoutError) or isinstance(exc, httpx2.TimeoutException):
        return Timeout(f"{what}: no answer in time.")
    if isinstance(exc, hf_errors.HfHubHTTPError) and exc.response is not None:
        return from_status(exc.response.status_code, what=what, repo_id=repo_id,
                           headers=exc.response.headers, detail=_server_words(exc))
    if isinstance(exc, httpx2.HTTPStatusError):
        return from_status(exc.response.status_code, what=what, repo_id=repo_id, headers=exc.response.headers)
    if isinstance(exc, (httpx2.TransportError, ConnectionError, OSError)):
        return Unavailable(f"{what}: could not connect ({type(exc).__name__}).")
    return HfdashError(f"{what}: {type(exc).__name__}: {exc}")
