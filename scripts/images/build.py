#!/usr/bin/env python3
"""Build the test cluster's container images locally, as one OCI image archive.

No registry is involved: every image is made from Debian's busybox-static binary
(`/bin/busybox`) and a few small files, written as an OCI image layout in a tar file
that `ctr -n k8s.io images import` loads. Pods use `imagePullPolicy: Never`.

Images (all single-layer, uncompressed, linux/<host arch>):

  k8s-debug-mcp.local/busybox:1       the debug image: /bin/busybox + a symlink for every
                                      applet (sh, ps, ls, cat, wget, nc, ...), /etc/passwd
  k8s-debug-mcp.local/slim-app:1      shell-less "distroless-like" app: only /app/server (a
                                      busybox copy) and /app/httpd -> server, serving
                                      /www/index.html on :8080; /etc/slim/config.yaml to read
                                      through /proc/<pid>/root. No /bin/sh anywhere.
  k8s-debug-mcp.local/slim-sidecar:1  shell-less sidecar: /app/sidecar + /app/sleep -> sidecar
  k8s-debug-mcp.local/pause:1         containerd's sandbox_image: busybox `sleep` as PID 1
                                      (containerd stops sandboxes with SIGKILL)

busybox picks the applet from the basename of argv[0] (or argv[1] when that basename
starts with "busybox"), which is why the shell-less images start their one binary
through a symlink named after the applet.

The build is deterministic (fixed mtimes, owners and order) and cached: the archive's
name carries a hash of this script and the busybox binary, and an existing archive is
reused. Prints the archive path; next to it, <archive>.json maps each image name to
its manifest digest (what `ctr images ls` shows once imported).

    scripts/images/build.py [--out DIR] [--busybox PATH]

Only the standard library is used.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import platform
import subprocess
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

MTIME = 946684800  # 2000-01-01T00:00:00Z, for every file in every layer
CREATED = "2000-01-01T00:00:00Z"
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
REGISTRY = "k8s-debug-mcp.local"

MEDIA_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER = "application/vnd.oci.image.layer.v1.tar"

SLIM_PAGE = "hello from slim-app\n"
SLIM_CONFIG = """\
# slim-app configuration (read it from a debug container via /proc/<pid>/root)
listen: 0.0.0.0:8080
docroot: /www
greeting: hello from slim-app
"""
PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
GROUP = "root:x:0:\nnogroup:x:65534:\n"


@dataclass
class Entry:
    path: str  # without leading slash
    kind: str  # "dir" | "file" | "symlink"
    mode: int = 0o755
    data: bytes = b""
    target: str = ""


@dataclass
class Image:
    name: str
    entries: list[Entry]
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    labels: dict[str, str] = field(default_factory=dict)


def arch() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)


def dirs(*paths: str, mode: int = 0o755) -> list[Entry]:
    return [Entry(p, "dir", mode) for p in paths]


def layer_tar(entries: list[Entry]) -> bytes:
    """A deterministic uncompressed tar: parents first, sorted, root-owned, fixed mtime."""
    by_path: dict[str, Entry] = {}
    for e in entries:
        parts = e.path.split("/")
        for i in range(1, len(parts)):
            parent = "/".join(parts[:i])
            by_path.setdefault(parent, Entry(parent, "dir"))
        by_path[e.path] = e
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for path in sorted(by_path):
            e = by_path[path]
            info = tarfile.TarInfo(path)
            info.mtime = MTIME
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mode = e.mode
            if e.kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif e.kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = e.target
                info.mode = 0o777
                tar.addfile(info)
            else:
                info.size = len(e.data)
                tar.addfile(info, io.BytesIO(e.data))
    return buf.getvalue()


def busybox_applets(busybox: Path) -> list[str]:
    """Install paths of every applet (bin/sh, usr/bin/wget, ...), from `busybox --list-full`."""
    out = subprocess.run([str(busybox), "--list-full"], check=True, capture_output=True, text=True).stdout
    return sorted({line.strip().lstrip("/") for line in out.splitlines() if line.strip()} - {"bin/busybox"})


def images(busybox: Path) -> list[Image]:
    bb = busybox.read_bytes()
    applets = busybox_applets(busybox)
    for needed in ("bin/sh", "bin/ps", "bin/ls", "bin/cat", "usr/bin/wget", "bin/sleep", "usr/bin/id", "usr/bin/env"):
        if needed not in applets:
            raise SystemExit(f"{busybox} lacks the applet {needed}")
    debug = Image(
        f"{REGISTRY}/busybox:1",
        [
            *dirs("bin", "sbin", "usr/bin", "usr/sbin", "etc", "root", "proc", "sys", "dev"),
            Entry("tmp", "dir", 0o1777),
            Entry("bin/busybox", "file", 0o755, bb),
            *[Entry(a, "symlink", target="/bin/busybox") for a in applets],
            Entry("etc/passwd", "file", 0o644, PASSWD.encode()),
            Entry("etc/group", "file", 0o644, GROUP.encode()),
        ],
        cmd=["sh"],
    )
    slim_app = Image(
        f"{REGISTRY}/slim-app:1",
        [
            Entry("app/server", "file", 0o755, bb),
            Entry("app/httpd", "symlink", target="server"),
            Entry("www/index.html", "file", 0o644, SLIM_PAGE.encode()),
            Entry("etc/slim/config.yaml", "file", 0o644, SLIM_CONFIG.encode()),
        ],
        entrypoint=["/app/httpd", "-f", "-p", "8080", "-h", "/www"],
    )
    slim_sidecar = Image(
        f"{REGISTRY}/slim-sidecar:1",
        [
            Entry("app/sidecar", "file", 0o755, bb),
            Entry("app/sleep", "symlink", target="sidecar"),
        ],
        entrypoint=["/app/sleep", "1000000"],
    )
    pause = Image(
        f"{REGISTRY}/pause:1",
        [Entry("pause/busybox", "file", 0o755, bb)],
        entrypoint=["/pause/busybox", "sleep", "2147483647"],
    )
    return [debug, slim_app, slim_sidecar, pause]


def blob(blobs: dict[str, bytes], data: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    blobs[digest] = data
    return digest


def canonical(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def build_archive(busybox: Path, out: Path) -> dict[str, str]:
    """Write the OCI layout tar to `out`; returns image name -> manifest digest."""
    blobs: dict[str, bytes] = {}
    index_manifests = []
    digests: dict[str, str] = {}
    for img in images(busybox):
        layer = layer_tar(img.entries)
        layer_digest = blob(blobs, layer)
        config: dict[str, object] = {"Env": [PATH_ENV], "WorkingDir": "/"}
        if img.entrypoint:
            config["Entrypoint"] = img.entrypoint
        if img.cmd:
            config["Cmd"] = img.cmd
        if img.labels:
            config["Labels"] = img.labels
        config_json = canonical(
            {
                "architecture": arch(),
                "os": "linux",
                "created": CREATED,
                "config": config,
                "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
                "history": [{"created": CREATED, "created_by": "scripts/images/build.py"}],
            }
        )
        config_digest = blob(blobs, config_json)
        manifest = canonical(
            {
                "schemaVersion": 2,
                "mediaType": MEDIA_MANIFEST,
                "config": {"mediaType": MEDIA_CONFIG, "digest": config_digest, "size": len(config_json)},
                "layers": [{"mediaType": MEDIA_LAYER, "digest": layer_digest, "size": len(layer)}],
            }
        )
        manifest_digest = blob(blobs, manifest)
        digests[img.name] = manifest_digest
        index_manifests.append(
            {
                "mediaType": MEDIA_MANIFEST,
                "digest": manifest_digest,
                "size": len(manifest),
                "platform": {"architecture": arch(), "os": "linux"},
                "annotations": {
                    "io.containerd.image.name": img.name,
                    "org.opencontainers.image.ref.name": img.name.rsplit(":", 1)[1],
                },
            }
        )
    index = canonical({"schemaVersion": 2, "mediaType": MEDIA_INDEX, "manifests": index_manifests})
    files = {"oci-layout": canonical({"imageLayoutVersion": "1.0.0"}), "index.json": index}
    for digest, data in blobs.items():
        files["blobs/sha256/" + digest.split(":", 1)[1]] = data

    tmp = out.with_name(out.name + ".tmp")
    with tarfile.open(tmp, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in ("blobs", "blobs/sha256"):
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, MTIME
            tar.addfile(info)
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(files[name]), 0o644, MTIME
            tar.addfile(info, io.BytesIO(files[name]))
    os.replace(tmp, out)
    return digests


def main() -> int:
    cache = Path(os.environ.get("K8S_DEBUG_MCP_CACHE", Path.home() / ".cache" / "k8s-debug-mcp"))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=cache / "images", help="folder for the archive (cached)")
    parser.add_argument("--busybox", type=Path, default=Path("/bin/busybox"), help="a static busybox binary")
    args = parser.parse_args()

    busybox: Path = args.busybox
    if not busybox.is_file():
        print(f"build.py: {busybox} not found (apt-get install busybox-static)", file=sys.stderr)
        return 1
    key = hashlib.sha256(Path(__file__).read_bytes() + b"\0" + busybox.read_bytes() + arch().encode()).hexdigest()
    out_dir: Path = args.out
    out_dir.mkdir(parents=True, exist_ok=True)
    archive = out_dir / f"k8s-debug-mcp-images-{key[:16]}.tar"
    digests_file = archive.with_name(archive.name + ".json")
    if not (archive.is_file() and digests_file.is_file()):
        for old in out_dir.glob("k8s-debug-mcp-images-*"):
            old.unlink()
        digests = build_archive(busybox, archive)
        tmp = digests_file.with_name(digests_file.name + ".tmp")
        tmp.write_text(json.dumps(digests, indent=2, sort_keys=True) + "\n")
        os.replace(tmp, digests_file)
    print(archive)
    return 0


if __name__ == "__main__":
    sys.exit(main())
