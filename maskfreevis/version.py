"""Version of the maskfreevis package."""

__version__ = '0.1.0'


def parse_version_info(version_str: str) -> tuple:
    """Turn ``'0.1.0'`` into ``(0, 1, 0)`` and ``'0.1.0rc1'`` into ``(0, 1, 0, 'rc1')``."""
    parts: list = []
    for token in version_str.split('.'):
        number = token[: len(token) - len(token.lstrip('0123456789'))]
        parts.append(int(number))
        if number != token:
            parts.append(token[len(number) :])
    return tuple(parts)


version_info = parse_version_info(__version__)
