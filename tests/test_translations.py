"""The French translation covers every message of the template, and keeps each message's placeholders, so that a
French user never sees English on a Bookings screen nor a message that fails to format."""
import os
import re

import pytest
from babel.messages.pofile import read_po

I18N = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bookings_invoicing", "i18n")
PLACEHOLDER = re.compile(r"%\(\w+\)[sdrf]|%[sdrf]")


def messages(name):
    with open(os.path.join(I18N, name), "rb") as handle:
        return {message.id: message.string for message in read_po(handle) if message.id}


@pytest.fixture(scope="module")
def template():
    return messages("bookings_invoicing.pot")


@pytest.fixture(scope="module")
def french():
    return messages("fr.po")


def test_every_message_of_the_template_is_in_french(template, french):
    assert set(french) == set(template)
    assert [msgid for msgid, text in french.items() if not text.strip()] == []


def test_translations_keep_the_placeholders_of_their_message(french):
    broken = {msgid: text for msgid, text in french.items()
              if sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(text))}
    assert broken == {}
