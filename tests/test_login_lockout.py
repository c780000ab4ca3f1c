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
