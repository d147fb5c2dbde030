"""A verified subject links the conversation to a contact only when it is an active contact's id."""

from __future__ import annotations

import uuid

import pytest

from messaging.contacts import contact_for_subject
from messaging.models import Contact

pytestmark = pytest.mark.django_db


def test_an_active_contacts_id_finds_the_contact():
    contact = Contact.objects.create(full_name="Dana Demo")
    assert contact_for_subject(str(contact.id)) == contact
    assert contact_for_subject(str(contact.id).upper()) == contact


def test_an_inactive_contact_is_not_linked():
    contact = Contact.objects.create(full_name="Gone", status=Contact.Status.INACTIVE)
    assert contact_for_subject(str(contact.id)) is None


@pytest.mark.parametrize("subject", [None, "", "visitor-42", str(uuid.uuid4())])
def test_a_subject_that_is_no_contacts_id_links_nobody(subject):
    Contact.objects.create(full_name="Someone else")
    assert contact_for_subject(subject) is None
