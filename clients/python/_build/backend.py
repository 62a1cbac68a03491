"""A minimal PEP 517 build backend, standard library only, for this one
pure-Python package: a wheel holding iocane_client/ and its metadata. It
exists so that pip installs the client offline, without setuptools."""

import base64
import hashlib
import os
import zipfile

NAME, VERSION = "iocane_client", "1.0.0"
DIST = f"{NAME}-{VERSION}"
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

METADATA = f"""Metadata-Version: 2.1
Name: iocane-client
Version: {VERSION}
Summary: A typed client for the iocane REST API (standard library only)
Requires-Python: >=3.9
"""

WHEEL = """Wheel-Version: 1.0
Generator: iocane-client-backend
Root-Is-Purelib: true
Tag: py3-none-any
"""


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = f"{DIST}-py3-none-any.whl"
    files = []
    pkg = os.path.join(HERE, NAME)
    for fn in sorted(os.listdir(pkg)):
        if fn.endswith(".py") or fn == "py.typed":
            with open(os.path.join(pkg, fn), "rb") as f:
                files.append((f"{NAME}/{fn}", f.read()))
    files.append((f"{DIST}.dist-info/METADATA", METADATA.encode()))
    files.append((f"{DIST}.dist-info/WHEEL", WHEEL.encode()))
    record = [_record_line(p, d) for p, d in files] + [f"{DIST}.dist-info/RECORD,,"]
    files.append((f"{DIST}.dist-info/RECORD", ("\n".join(record) + "\n").encode()))
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w", zipfile.ZIP_DEFLATED) as z:
        for p, d in files:
            z.writestr(p, d)
    return name


def build_sdist(sdist_directory, config_settings=None):
    import tarfile

    name = f"{DIST}.tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as t:
        for rel in ("pyproject.toml", "README.md", "_build/backend.py", f"{NAME}/__init__.py", f"{NAME}/py.typed"):
            t.add(os.path.join(HERE, rel), arcname=f"{DIST}/{rel}")
    return name


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []
