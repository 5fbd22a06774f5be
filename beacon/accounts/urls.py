from django.urls import path

from beacon.accounts import oidc, views

app_name = "accounts"
urlpatterns = [
    path("sign-in/", views.SignInView.as_view(), name="login"),
    path("sign-out/", views.sign_out, name="logout"),
    path("two-factor/", views.verify, name="two_factor"),
    path("two-factor/set-up/", views.setup, name="two_factor_setup"),
    path("security/", views.security, name="security"),
    path("no-access/", views.no_access, name="no_access"),
    path("sso/start/", oidc.SignOnStartView.as_view(), name="oidc_start"),
    path("sso/callback/", oidc.SignOnCallbackView.as_view(), name="oidc_callback"),
]
