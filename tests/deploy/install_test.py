#!/usr/bin/env python3
"""`cmake --install` into a temporary prefix puts the binaries, the
configuration and the systemd unit in place, and the unit's paths (ExecStart's
binary, the configuration it loads as a credential) are where the install put
them, relative to the configured prefix. An existing configuration survives a
second install.

usage: install_test.py --build-dir BUILD --prefix CONFIGURED_PREFIX"""
import argparse
import os
import re
import shutil
import stat
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from deploy_lib import fail, install, unit_settings  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--prefix", required=True, help="CMAKE_INSTALL_PREFIX the build was configured with")
    args = ap.parse_args()
    configured = args.prefix.rstrip("/")
    root = install(args.build_dir)
    try:
        check(root, configured, args.build_dir)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print("OK")


def in_tree(root, configured, path, what):
    """`path` as the unit names it (under the configured prefix) -> the same
    file in the install tree at `root`."""
    if not path.startswith(configured + "/"):
        fail(f"{what} {path} is not under the prefix {configured}: the install rules and the unit disagree")
    return os.path.join(root, path[len(configured) + 1:])


def check(root, configured, build_dir):
    for tool in ("hubd", "hubctl", "hubgen", "hubreplay"):
        p = os.path.join(root, "bin", tool)
        if not os.access(p, os.X_OK):
            fail(f"{p} was not installed as an executable")
    unit_path = os.path.join(root, "lib/systemd/system/hubd.service")
    if not os.path.isfile(unit_path):
        fail(f"no unit at {unit_path}")
    config = os.path.join(root, "etc/hubd/hubd.toml")
    if not os.path.isfile(config):
        fail(f"no configuration at {config}")
    mode = stat.S_IMODE(os.stat(config).st_mode)
    if mode & 0o077:
        fail(f"{config} has mode {mode:o}: it holds secrets, owner-only expected")
    for profile in ("sick-dws.toml", "datalogic-multi.toml", "datalogic-dws.toml"):
        if not os.path.isfile(os.path.join(root, "etc/hubd/devices", profile)):
            fail(f"the device profile etc/hubd/devices/{profile} was not installed")
    for doc in ("README.md", "api.md", "devices.md", "hubd.toml.example"):
        if not os.path.isfile(os.path.join(root, "share/doc/hubd", doc)):
            fail(f"share/doc/hubd/{doc} not installed")

    with open(unit_path) as f:
        text = f.read()
    if re.search(r"@[A-Z_]+@", text):
        fail("unfilled @-names in the unit: " + ", ".join(sorted(set(re.findall(r"@[A-Z_]+@", text)))))
    unit = unit_settings(text)
    exec_start = unit.get("ExecStart", [""])[0].split()
    if not exec_start:
        fail("the unit has no ExecStart")
    binary = in_tree(root, configured, exec_start[0], "ExecStart's binary")
    if not os.access(binary, os.X_OK):
        fail(f"ExecStart runs {exec_start[0]}, but the install put no executable at {binary}")
    if os.path.basename(binary) != "hubd":
        fail(f"ExecStart runs {exec_start[0]}, not hubd")
    # The configuration reaches a DynamicUser as a credential.
    if unit.get("DynamicUser") != ["yes"]:
        fail("the unit does not run hubd as a DynamicUser")
    creds = dict(v.split(":", 1) for v in unit.get("LoadCredential", []))
    if "hubd.toml" not in creds:
        fail(f"the configuration is not loaded as a credential: {unit.get('LoadCredential')}")
    if in_tree(root, configured, creds["hubd.toml"], "the configuration credential") != config:
        fail(f"the unit loads {creds['hubd.toml']}, the install put the configuration at {config}")
    if exec_start[exec_start.index("--config") + 1] != "%d/hubd.toml":
        fail(f"hubd is not started with --config %d/hubd.toml: {exec_start}")
    for name in ("tls.pem", "tls.key"):
        if name not in creds or f"%d/{name}" not in exec_start:
            fail(f"the TLS credential {name} is missing or unused: {unit.get('LoadCredential')} {exec_start}")
    if not unit.get("WatchdogSec") or unit.get("Type") != ["notify"]:
        fail("the unit needs Type=notify and WatchdogSec=")

    # A second install keeps the operator's configuration.
    with open(config, "w") as f:
        f.write("# the hub's own secrets\n")
    install(build_dir, root)
    with open(config) as f:
        if f.read() != "# the hub's own secrets\n":
            fail("a second install replaced an existing configuration")


if __name__ == "__main__":
    main()
