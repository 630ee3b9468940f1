import unicodedata


def has_hidden_characters(url: str) -> bool:
    """Return whether `url` holds whitespace, control or format characters.

    Django strips Unicode whitespace before it checks a redirect's host, so
    `//127.0.0.1\\u3000` passes as this host, while browsers read the raw
    value; a redirect target with such characters is refused outright.
    """
    return any(
        char.isspace() or unicodedata.category(char) in ("Cc", "Cf") for char in url
    )
