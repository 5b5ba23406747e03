"""The errors of the account flows, with the help people need where they get stuck (FAQ 7-9)."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.errors import AppError, Conflict, FieldProblem, Text, TooManyRequests, Unauthorized
from chalicelib.kernel.plurals import MINUTES, wait_of

USERNAME_HELP = Text(
    "Your username is the email your employer's HR registered with us, or your civil ID if you "
    "registered yourself. Not sure which email? Ask your HR, or call customer service on 19097.",
    "اسم المستخدم هو البريد الإلكتروني الذي سجّلته إدارة الموارد البشرية لدى جهة عملك، أو رقمك المدني "
    "إن سجّلت بنفسك. لست متأكدًا من البريد؟ اسأل الموارد البشرية أو اتصل بخدمة العملاء 19097.",
)


class InvalidCredentials(Unauthorized):
    code = "INVALID_CREDENTIALS"
    text = Text(f"The username or password is not right. {USERNAME_HELP.en}",
                f"اسم المستخدم أو كلمة المرور غير صحيحة. {USERNAME_HELP.ar}")

    @classmethod
    def last_try(cls, lock_minutes: int) -> InvalidCredentials:
        """The failure after which one more locks the name: said alike for known and unknown names."""
        lock = MINUTES.of(lock_minutes)
        return cls(Text(f"The username or password is not right. One more failed try locks this username for "
                        f"{lock.en}: if you are not sure of your password, use Forgot password. {USERNAME_HELP.en}",
                        f"اسم المستخدم أو كلمة المرور غير صحيحة. محاولة فاشلة أخرى توقف اسم المستخدم لمدة {lock.ar}: "
                        f"إن لم تكن متأكدًا من كلمة المرور فاستخدم نسيت كلمة المرور. {USERNAME_HELP.ar}"))


class LockedOut(TooManyRequests):
    code = "LOGIN_LOCKED"
    text = Text(
        "Too many failed attempts: this username is locked for a while. Try again later, or use Forgot password.",
        "محاولات فاشلة كثيرة: تم إيقاف اسم المستخدم مؤقتًا. حاول لاحقًا أو استخدم نسيت كلمة المرور.",
    )

    @classmethod
    def for_(cls, retry_after: timedelta) -> LockedOut:
        """Locked for `retry_after`: the Retry-After header in seconds, and the wait in words (rounded up)."""
        seconds = max(1, int(retry_after.total_seconds()))
        wait = wait_of(retry_after.total_seconds())
        return cls(Text(f"Too many failed attempts: this username is locked. Try again in {wait.en}, "
                        "or use Forgot password.",
                        f"محاولات فاشلة كثيرة: تم إيقاف اسم المستخدم مؤقتًا. حاول مرة أخرى بعد {wait.ar}، "
                        "أو استخدم نسيت كلمة المرور."),
                   headers={"Retry-After": str(seconds)})


class TemporaryPasswordExpired(Unauthorized):
    code = "TEMPORARY_PASSWORD_EXPIRED"
    text = Text("Your temporary password has expired. Use Forgot password to get in.",
                "انتهت صلاحية كلمة المرور المؤقتة. استخدم نسيت كلمة المرور للدخول.")


class AccessTokenRejected(Exception):
    """A bearer token that is not one we issued, or no longer valid: the authorizer denies, no response body."""


class InvalidToken(Unauthorized):
    """A link, challenge or token a person presented that is not (or no longer) valid."""

    code = "INVALID_TOKEN"
    text = Text("This link or token is not valid or has expired.", "هذا الرابط أو الرمز غير صالح أو منتهي الصلاحية.")


class RefreshReused(Unauthorized):
    code = "REFRESH_TOKEN_REUSED"
    text = Text("This sign-in was ended for your safety. Log in again.",
                "تم إنهاء جلسة الدخول هذه حفاظًا على أمانك. سجّل الدخول مرة أخرى.")


class SessionEnded(Unauthorized):
    code = "SESSION_EXPIRED"
    text = Text("Your sign-in has ended. Log in again.", "انتهت جلسة الدخول. سجّل الدخول مرة أخرى.")


class CodeProblem(AppError):
    status = 400
    code = "CODE_INVALID"
    text = Text("The code is not right.", "الرمز غير صحيح.")


class RegistrationExpired(AppError):
    status = 410
    code = "REGISTRATION_EXPIRED"
    text = Text("This registration has expired. Start again.", "انتهت صلاحية هذا التسجيل. ابدأ من جديد.")


class WrongCurrentPassword(AppError):
    status = 403
    code = "WRONG_CURRENT_PASSWORD"
    text = Text("Your current password is not right.", "كلمة المرور الحالية غير صحيحة.")


class UsernameTaken(Conflict):
    """Said only after the SMS code proved the phone: the register call itself answers alike for all."""

    code = "USERNAME_TAKEN"
    text = Text("An account with this civil ID or email already exists. Log in, or use Forgot password; "
                "its owner has been told of this attempt.",
                "يوجد حساب بهذا الرقم المدني أو البريد الإلكتروني. سجّل الدخول أو استخدم نسيت كلمة المرور؛ "
                "وقد أُبلغ صاحب الحساب بهذه المحاولة.")

    def __init__(self, field: str) -> None:
        super().__init__(fields={field: FieldProblem("taken", Text("Already registered.", "مسجّل مسبقًا."))})
        self.field = field
