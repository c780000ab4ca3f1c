"""Login lockout with a limit per kind of count (django-axes compares every count with one limit).

Three counts of failed logins within the cool-off time, each with its own limit:

- one username from one address (AXES_FAILURE_LIMIT, 5): someone mistyping, or a bot on one account;
- one username from all addresses together (LOGIN_ACCOUNT_FAILURE_LIMIT): one account guessed from many
  addresses, which the first count never sees;
- one address for all usernames together (LOGIN_ADDRESS_FAILURE_LIMIT): password spraying, a few guesses
  at each of many accounts, which neither of the others sees.

The last two are higher than the first, so that a newsroom behind one office address, or an editor who
mistypes on the phone and then the laptop, is not shut out by ordinary mistakes.
"""

from axes.conf import settings
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit, get_lockout_parameters
from axes.models import AccessAttempt
from django.contrib import admin
from django.db.models import Sum
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timeuntil


def limit_for(parameter, request, credentials):
    if parameter == "username":
        return settings.LOGIN_ACCOUNT_FAILURE_LIMIT
    if parameter == "ip_address":
        return settings.LOGIN_ADDRESS_FAILURE_LIMIT
    return get_failure_limit(request, credentials)


class LockoutHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials=None):
        """The failures, measured against AXES_FAILURE_LIMIT, of the count nearest its own limit.

        axes locks out when this reaches AXES_FAILURE_LIMIT, so it does exactly when some count reaches
        its own limit (a count 3 short of its limit gives AXES_FAILURE_LIMIT - 3).
        """
        parameters = get_lockout_parameters(request, credentials)
        attempts_list = self.get_user_attempts(request, credentials)
        shortfalls = [
            limit_for(parameter, request, credentials)
            - (attempts.aggregate(failures=Sum("failures_since_start"))["failures"] or 0)
            for parameter, attempts in zip(parameters, attempts_list, strict=True)
        ]
        return max(0, get_failure_limit(request, credentials) - min(shortfalls))

    def reset_user_attempts(self, request, credentials=None):
        """After a successful login, forget this username's failures (from every address), and only those.

        axes would also forget every failure from the address, for all usernames: then anyone with one
        account of their own could log in with it between guesses and spray the others without limit.
        """
        count, _ = AccessAttempt.objects.filter(username=get_client_username(request, credentials)).delete()
        return count


def lockout_page(request, original_response=None, credentials=None):
    """What a locked-out login sees (AXES_LOCKOUT_CALLABLE): for how long, and the way back, in the login's box."""
    cool_off, now = get_cool_off(request), timezone.now()
    context = {
        **admin.site.each_context(request),
        "title": "Too many failed logins",
        "username": get_client_username(request, credentials) or "",
        "cooloff": timeuntil(now + cool_off, now) if cool_off else "a while",
        "login_url": reverse("admin:login"),
    }
    # Rendered now: axes answers from its middleware, where a TemplateResponse would not be rendered.
    return render(request, "admin/lockout.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)
