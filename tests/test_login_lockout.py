import io

import pytest
from django.conf import settings
from django.urls import reverse


@pytest.fixture
def editor(django_user_model, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; not what we test
    return django_user_model.objects.create_user("desk", password="correct horse battery", is_staff=True)


def log_in(client, password, username="desk", address="203.0.113.7"):
    return client.post(reverse("admin:login"), {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.django_db
def test_admin_login_locks_out_after_repeated_wrong_passwords(client, editor):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, "guess").status_code == 200  # the form again, with an error

    assert log_in(client, "guess").status_code == 429
    # Locked out: even the right password is refused now.
    response = log_in(client, "correct horse battery")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_lockout_does_not_shut_out_the_editor_from_another_address(client, editor):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "guess", address="203.0.113.7")

    response = log_in(client, "correct horse battery", address="198.51.100.20")

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(editor.pk)


@pytest.mark.django_db
def test_a_successful_login_forgets_earlier_mistakes(client, editor):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "guess")
    assert log_in(client, "correct horse battery").status_code == 302
    client.logout()

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "guess")

    assert log_in(client, "correct horse battery").status_code == 302


@pytest.mark.django_db
def test_behind_a_proxy_the_lockout_counts_the_readers_address_not_the_proxys(client, editor, settings):
    settings.PROXY_COUNT = 1
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            reverse("admin:login"),
            {"username": "desk", "password": "guess"},
            REMOTE_ADDR="10.0.0.2",  # the load balancer
            HTTP_X_FORWARDED_FOR="203.0.113.7",
        )

    # Another reader behind the same load balancer can still log in.
    response = client.post(
        reverse("admin:login"),
        {"username": "desk", "password": "correct horse battery"},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.20",
    )
    assert response.status_code == 302


@pytest.fixture
def colleagues(django_user_model, editor):
    """Thirty more accounts, each with its own password, as a password sprayer would find them."""
    return [
        django_user_model.objects.create_user(f"reporter{n}", password=f"password {n}", is_staff=True)
        for n in range(30)
    ]


@pytest.mark.django_db
def test_spraying_many_accounts_from_one_address_locks_the_address(client, editor, colleagues):
    # Fewer guesses at each account than locks that account out from one address...
    answers = [
        log_in(client, "Summer2026!", username=colleague.username).status_code
        for colleague in colleagues
        for _ in range(settings.AXES_FAILURE_LIMIT - 1)
    ]
    limit = settings.LOGIN_ADDRESS_FAILURE_LIMIT
    assert answers[: limit - 1] == [200] * (limit - 1)
    assert set(answers[limit - 1 :]) == {429}
    # ...but the address has made enough guesses in all: even a right password is refused from it.
    assert log_in(client, "password 29", username="reporter29").status_code == 429
    assert log_in(client, "correct horse battery").status_code == 429
    assert "_auth_user_id" not in client.session
    # Forged X-Forwarded-For headers do not make new addresses when no proxy is trusted.
    response = client.post(
        reverse("admin:login"),
        {"username": "reporter3", "password": "password 3"},
        REMOTE_ADDR="203.0.113.7",
        HTTP_X_FORWARDED_FOR="198.51.100.99",
    )
    assert response.status_code == 429
    # The accounts themselves are not locked: from elsewhere their owners log in.
    assert log_in(client, "password 3", username="reporter3", address="198.51.100.20").status_code == 302


@pytest.mark.django_db
def test_an_office_behind_one_address_survives_ordinary_mistakes(client, editor, colleagues):
    # Several people each mistype a couple of times, everyone below the address's limit.
    for colleague in colleagues[: settings.LOGIN_ADDRESS_FAILURE_LIMIT // 2 - 1]:
        log_in(client, "typo", username=colleague.username)
        log_in(client, "typo", username=colleague.username)

    assert log_in(client, "correct horse battery").status_code == 302


@pytest.mark.django_db
def test_a_successful_login_does_not_forget_the_addresss_guesses_at_other_accounts(client, editor, colleagues):
    # A sprayer with an account of their own cannot log in with it between guesses to start afresh.
    for colleague in colleagues[: settings.LOGIN_ADDRESS_FAILURE_LIMIT // 2]:
        log_in(client, "Summer2026!", username=colleague.username)
    assert log_in(client, "password 29", username="reporter29").status_code == 302
    client.logout()
    for colleague in colleagues[: settings.LOGIN_ADDRESS_FAILURE_LIMIT // 2]:
        log_in(client, "Winter2026!", username=colleague.username)

    assert log_in(client, "password 29", username="reporter29").status_code == 429


def guess_from_many_addresses(client, username="desk"):
    """Fewer guesses from each address than lock it out, enough in all to lock the account (the last, 429)."""
    limit = settings.LOGIN_ACCOUNT_FAILURE_LIMIT
    answers = [log_in(client, f"guess {n}", username=username, address=f"198.51.100.{n + 1}") for n in range(limit)]
    assert [response.status_code for response in answers] == [200] * (limit - 1) + [429]


@pytest.mark.django_db
def test_one_account_guessed_from_many_addresses_is_locked(client, editor):
    guess_from_many_addresses(client)

    # From yet another address, even with the right password.
    assert log_in(client, "correct horse battery", address="192.0.2.50").status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_behind_a_proxy_one_account_guessed_from_many_readers_is_locked(client, editor, settings):
    settings.PROXY_COUNT = 1
    for n in range(settings.LOGIN_ACCOUNT_FAILURE_LIMIT):
        response = client.post(
            reverse("admin:login"),
            {"username": "desk", "password": f"guess {n}"},
            REMOTE_ADDR="10.0.0.2",  # the load balancer, for every reader
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n + 1}",
        )
        assert response.status_code == (429 if n == settings.LOGIN_ACCOUNT_FAILURE_LIMIT - 1 else 200)

    response = client.post(
        reverse("admin:login"),
        {"username": "desk", "password": "correct horse battery"},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="192.0.2.50",
    )
    assert response.status_code == 429


@pytest.mark.django_db
def test_an_editor_unlocks_an_account_in_the_admin(client, editor, make_user):
    from axes.models import AccessAttempt

    from tests.conftest import logged_in

    guess_from_many_addresses(client)
    assert log_in(client, "correct horse battery").status_code == 429
    desk = logged_in(make_user("ed", "Editors"))

    # Admin → Access attempts, search the username, select them all, "Delete selected", confirm.
    changelist = reverse("admin:axes_accessattempt_changelist")
    listed = desk.get(changelist, {"q": "desk"})
    assert listed.status_code == 200
    selected = [str(pk) for pk in AccessAttempt.objects.filter(username="desk").values_list("pk", flat=True)]
    assert len(selected) >= settings.LOGIN_ACCOUNT_FAILURE_LIMIT
    response = desk.post(
        f"{changelist}?q=desk", {"action": "delete_selected", "_selected_action": selected, "post": "yes"}
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="desk").exists()

    response = log_in(client, "correct horse battery")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(editor.pk)


@pytest.mark.django_db
def test_a_reporter_cannot_see_or_clear_login_attempts(make_user):
    from tests.conftest import logged_in

    reporter = logged_in(make_user("rita", "Reporters"))

    assert reporter.get(reverse("admin:axes_accessattempt_changelist")).status_code == 403


@pytest.mark.django_db
def test_the_reset_commands_unlock_an_account_and_an_address(client, editor, colleagues):
    from django.core.management import call_command

    guess_from_many_addresses(client)
    call_command("axes_reset_username", "desk", stdout=io.StringIO())
    assert log_in(client, "correct horse battery").status_code == 302
    client.logout()

    for colleague in colleagues[: settings.LOGIN_ADDRESS_FAILURE_LIMIT]:
        log_in(client, "Summer2026!", username=colleague.username)
    assert log_in(client, "correct horse battery").status_code == 429
    call_command("axes_reset_ip", "203.0.113.7", stdout=io.StringIO())
    assert log_in(client, "correct horse battery").status_code == 302


@pytest.mark.django_db
def test_lockout_page_says_for_how_long_and_the_way_back(client, editor):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = log_in(client, "guess")

    assert response.status_code == 429
    page = response.content.decode()
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    assert f"locked for {minutes}\xa0minutes" in page
    assert f'href="{reverse("admin:login")}"' in page
