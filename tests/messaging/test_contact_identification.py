"""A verified subject links the conversation to a contact only when it is an active contact's id
and the authentication setting that verified it links contacts."""

from __future__ import annotations

import uuid

import pytest
from channels.db import database_sync_to_async

from messaging.contacts import contact_for_subject
from messaging.models import Contact, Conversation
from tests.keyserver import token_for
from tests.messaging.sockets import socket

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


async def chat_as_contact(widget, keys, *, link_contacts: bool) -> tuple[Conversation, Contact]:
    """A chat started with a token whose sub is an active contact's id, through a setting that
    links contacts or not, while another active contact exists; returns the conversation and
    the contact the token names."""
    setting = widget.authentication_setting
    setting.link_contacts = link_contacts
    await database_sync_to_async(setting.save)()
    await database_sync_to_async(Contact.objects.create)(full_name="Someone else")
    contact = await database_sync_to_async(Contact.objects.create)(full_name="Dana Demo")
    async with socket(widget.widget_id) as communicator:
        await communicator.send_json_to(
            {"type": "start", "token": token_for(keys, sub=str(contact.id))}
        )
        started = await communicator.receive_json_from(timeout=5)
    conversation = await database_sync_to_async(Conversation.objects.get)(
        pk=started["conversation"]
    )
    return conversation, contact


@pytest.mark.django_db(transaction=True)
async def test_a_setting_that_links_contacts_links_the_chat_to_the_contact(chat, keys):
    widget, _ = chat
    conversation, contact = await chat_as_contact(widget, keys, link_contacts=True)
    assert conversation.contact_id == contact.id


@pytest.mark.django_db(transaction=True)
async def test_a_setting_that_does_not_link_contacts_leaves_the_chat_unlinked(chat, keys):
    widget, _ = chat
    conversation, contact = await chat_as_contact(widget, keys, link_contacts=False)
    assert conversation.authenticated
    assert (conversation.subject, conversation.contact_id) == (str(contact.id), None)


@pytest.mark.django_db(transaction=True)
async def test_signing_in_mid_chat_through_a_setting_that_does_not_link_contacts_links_nobody(
    chat, keys
):
    widget, _ = chat
    widget.require_authentication = False
    widget.allow_session_upgrade = True
    await database_sync_to_async(widget.save)()
    setting = widget.authentication_setting
    setting.link_contacts = False
    await database_sync_to_async(setting.save)()
    contact = await database_sync_to_async(Contact.objects.create)(full_name="Dana Demo")
    async with socket(widget.widget_id) as communicator:
        await communicator.send_json_to({"type": "start", "token": None})
        started = await communicator.receive_json_from(timeout=5)
        await communicator.receive_json_from(timeout=5)
        await communicator.send_json_to(
            {"type": "authenticate", "token": token_for(keys, sub=str(contact.id))}
        )
        assert (await communicator.receive_json_from(timeout=5))["type"] == "authenticated"
    conversation = await database_sync_to_async(Conversation.objects.get)(
        pk=started["conversation"]
    )
    assert (conversation.subject, conversation.contact_id) == (str(contact.id), None)
