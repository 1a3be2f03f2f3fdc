#!/usr/bin/env python3
"""The Docker image's runtime stage installs every shared library that the
installed binaries need. Without a Docker engine: install the build with its
own rules into a temporary prefix, run ldd on every installed binary, map each
library to its Debian package (dpkg -S) and check that the runtime stage's
`apt-get install` line (parsed from deploy/Dockerfile) names that package.
Also: the build stage installs with `cmake --install`, and .dockerignore keeps
build directories, data directories and .git out of the build context while
the sources stay in.

usage: docker_runtime_test.py --build-dir BUILD --source-dir SRC"""
import argparse
import fnmatch
import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from deploy_lib import apt_installed, dockerfile_stages, fail, install  # noqa: E402


def package_of(lib):
    """Debian package that holds `lib` (tries the /usr-merged twin too)."""
    candidates = [lib, os.path.realpath(lib)]
    for p in list(candidates):
        candidates.append(p[4:] if p.startswith("/usr/") else "/usr" + p)
    for p in candidates:
        r = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout.split(":", 1)[0].split(",")[0].strip()
    return None


def libraries(binary):
    """Paths of the shared libraries ldd resolves for `binary`."""
    r = subprocess.run(["ldd", binary], capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"ldd {binary}: {r.stderr}")
    out = []
    for line in r.stdout.splitlines():
        line = line.strip()
        if "not found" in line:
            fail(f"{binary}: {line}")
        if "=>" in line:
            path = line.split("=>", 1)[1].split("(")[0].strip()
        else:
            path = line.split("(")[0].strip()  # the loader, linux-vdso
        if path.startswith("/"):
            out.append(path)
    return out


def ignored(patterns, path):
    for p in patterns:
        p = p.strip("/")
        if fnmatch.fnmatch(path, p) or any(
                fnmatch.fnmatch("/".join(path.split("/")[:n]), p) for n in range(1, path.count("/") + 1)):
            return True
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--source-dir", required=True)
    args = ap.parse_args()
    with open(os.path.join(args.source_dir, "deploy/Dockerfile")) as f:
        stages = dockerfile_stages(f.read())
    if len(stages) < 2:
        fail("deploy/Dockerfile has no separate runtime stage")
    if not any("cmake --install" in i for i in stages[0]):
        fail("the build stage does not use cmake --install")
    named = apt_installed(stages[-1])
    if not named:
        fail("the runtime stage installs no packages")

    root = install(args.build_dir)
    try:
        binaries = sorted(os.path.join(root, "bin", b) for b in os.listdir(os.path.join(root, "bin")))
        if not any(b.endswith("/hubd") for b in binaries) or not any(b.endswith("/hubctl") for b in binaries):
            fail(f"hubd and hubctl are not among the installed binaries: {binaries}")
        needed = {}  # package -> libraries
        for b in binaries:
            for lib in libraries(b):
                pkg = package_of(lib)
                if pkg is None:
                    fail(f"{os.path.basename(b)} needs {lib}, which no Debian package holds")
                needed.setdefault(pkg, set()).add(os.path.basename(lib))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    for pkg in sorted(needed):
        print(f"{pkg:20} {'named' if pkg in named else 'MISSING':8} {' '.join(sorted(needed[pkg]))}")
    missing = sorted(set(needed) - named)
    if missing:
        fail("the runtime stage's apt-get install does not name " + ", ".join(missing))

    with open(os.path.join(args.source_dir, ".dockerignore")) as f:
        patterns = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    for path in ("build/CMakeCache.txt", "build-fuzz/build.ninja", "build-sanitize/hub_tests",
                 ".git/HEAD", "hubd-data/CURRENT"):
        if not ignored(patterns, path):
            fail(f".dockerignore lets {path} into the build context")
    for path in ("CMakeLists.txt", "src/daemon/main.cc", "scripts/build.sh", "deploy/hubd.toml",
                 "proto/hub/v1/event.proto", "README.md"):
        if ignored(patterns, path):
            fail(f".dockerignore keeps {path}, which the build needs, out of the context")
    print("OK")


if __name__ == "__main__":
    main()
