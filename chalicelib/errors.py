"""Domain errors with stable codes and messages in Arabic and English.

Services raise these; the API layer turns them into the error envelope of
PRODUCT.md: {"error": {"code", "message", "fields"}} in the caller's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

LANGUAGES = ("ar", "en")


@dataclass(frozen=True)
class Text:
    """A sentence a person reads, in both languages."""

    en: str
    ar: str

    def in_(self, lang: str) -> str:
        return self.ar if lang == "ar" else self.en

    def format(self, **values: object) -> Text:
        return Text(self.en.format(**values), self.ar.format(**values))


@dataclass(frozen=True)
class FieldProblem:
    """Why one input field was refused: a stable rule name and the sentence."""

    rule: str
    text: Text


class AppError(Exception):
    """Base of every error a caller may see; subclasses fix status and code."""

    status: int = 400
    code: str = "BAD_REQUEST"
    text: Text = Text("The request is not valid.", "الطلب غير صالح.")

    def __init__(
        self,
        text: Text | None = None,
        *,
        fields: Mapping[str, FieldProblem] | None = None,
        headers: Mapping[str, str] | None = None,
        code: str | None = None,
        details: Mapping[str, object] | None = None,
    ) -> None:
        if text is not None:
            self.text = text
        if code is not None:
            self.code = code
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})
        self.details = dict(details or {})
        super().__init__(f"{self.code}: {self.text.en}")

    def body(self, lang: str) -> dict[str, dict[str, object]]:
        error: dict[str, object] = {"code": self.code, "message": self.text.in_(lang)}
        if self.fields:
            error["fields"] = {
                name: {"rule": p.rule, "message": p.text.in_(lang)}
                for name, p in self.fields.items()
            }
        error.update(self.details)
        return {"error": error}


class BadRequest(AppError):
    pass


class ValidationFailed(AppError):
    status = 422
    code = "VALIDATION_FAILED"
    text = Text(
        "Some fields are not valid; see fields.",
        "بعض الحقول غير صحيحة؛ راجع الحقول المذكورة.",
    )


class Unauthorized(AppError):
    status = 401
    code = "UNAUTHORIZED"
    text = Text("Sign in to continue.", "يرجى تسجيل الدخول للمتابعة.")


class NotFound(AppError):
    status = 404
    code = "NOT_FOUND"
    text = Text("Not found.", "غير موجود.")


class Conflict(AppError):
    status = 409
    code = "CONFLICT"
    text = Text(
        "This conflicts with the current state; reload and try again.",
        "يتعارض هذا مع الحالة الحالية؛ أعد التحميل وحاول مرة أخرى.",
    )


class TooManyRequests(AppError):
    status = 429
    code = "TOO_MANY_REQUESTS"
    text = Text("Too many attempts; try again later.", "محاولات كثيرة؛ حاول لاحقًا.")


class Internal(AppError):
    status = 500
    code = "INTERNAL"
    text = Text(
        "Something went wrong on our side. Quote the request id to customer service (19097).",
        "حدث خطأ من جهتنا. اذكر رقم الطلب لخدمة العملاء (19097).",
    )


def field_error(name: str, rule: str, en: str, ar: str) -> ValidationFailed:
    """A validation error about one field."""
    return ValidationFailed(fields={name: FieldProblem(rule, Text(en, ar))})


class FieldErrors:
    """Collects problems over several fields, then raises them together."""

    def __init__(self) -> None:
        self.problems: dict[str, FieldProblem] = {}

    def add(self, name: str, rule: str, en: str, ar: str) -> None:
        self.problems.setdefault(name, FieldProblem(rule, Text(en, ar)))

    def __bool__(self) -> bool:
        return bool(self.problems)

    def raise_if_any(self) -> None:
        if self.problems:
            raise ValidationFailed(fields=self.problems)


class StaleState(Conflict):
    """A conditional write lost: someone changed the item first, and nothing was written."""


class MethodNotAllowed(AppError):
    status = 405
    code = "METHOD_NOT_ALLOWED"
    text = Text("This address does not take this method.", "هذا العنوان لا يقبل هذه الطريقة.")


class UnsupportedMediaType(AppError):
    status = 415
    code = "UNSUPPORTED_MEDIA_TYPE"
    text = Text("This address does not take a body of this Content-Type (application/json unless stated).",
                "هذا العنوان لا يقبل محتوى من هذا النوع (Content-Type)؛ استخدم application/json ما لم يُذكر غير ذلك.")
