from __future__ import annotations

from django import forms


class RoutingForm(forms.Form):
    """What the customer's next token says about them, to show routing by context."""

    cart_value = forms.IntegerField(label="Cart value", min_value=0, max_value=10**9)
    vip = forms.BooleanField(label="VIP customer", required=False)
