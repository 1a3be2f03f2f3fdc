"""Helpers for the deployment tests: install a build tree into a temporary
prefix with its own install rules, and read the unit and the Dockerfile."""
import os
import shlex
import subprocess
import sys
import tempfile


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def install(build_dir, prefix=None, env_extra=None):
    """`cmake --install build_dir --prefix prefix` (a new temporary
    directory when None); returns the prefix."""
    prefix = prefix or tempfile.mkdtemp(prefix="hubd-install-")
    env = dict(os.environ, **(env_extra or {}))
    r = subprocess.run(["cmake", "--install", build_dir, "--prefix", prefix],
                       capture_output=True, text=True, env=env)
    if r.returncode != 0:
        fail(f"cmake --install failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return prefix


def unit_settings(text):
    """systemd unit text -> {key: [values]} (continuation lines joined)."""
    out = {}
    for line in text.replace("\\\n", " ").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")) or "=" not in line:
            continue
        key, value = line.split("=", 1)
        out.setdefault(key.strip(), []).append(value.strip())
    return out


def dockerfile_stages(text):
    """Dockerfile text -> list of stages, each a list of instructions
    (continuation lines joined, comments dropped)."""
    lines = []
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        lines.append(line)
    joined = "\n".join(lines).replace("\\\n", " ")
    stages = []
    for instr in joined.splitlines():
        instr = instr.strip()
        if not instr:
            continue
        if instr.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(instr)
    return stages


def apt_installed(stage):
    """Package names the stage's `apt-get install` commands name."""
    names = set()
    for instr in stage:
        if not instr.upper().startswith("RUN "):
            continue
        words = shlex.split(instr[4:])
        i = 0
        while i < len(words):
            if words[i] == "apt-get" and "install" in words[i:i + 8]:
                i = words.index("install", i) + 1
                while i < len(words) and words[i] not in ("&&", ";", "||", "|"):
                    if not words[i].startswith("-"):
                        names.add(words[i])
                    i += 1
            i += 1
    return names
