# k8s-debug-mcp as a container image.
#
#   stdio (a local client starts it):
#     docker run -i --rm --user "$(id -u):$(id -g)" -v ~/.kube:/kube:ro IMAGE --kubeconfig /kube/config
#   in a cluster: the Helm chart in deploy/helm/k8s-debug-mcp (--in-cluster, streamable HTTP)
#
# Runs as uid 10001 (any uid works), writes nothing outside /tmp and the declared volume
# /var/lib/k8s-debug-mcp (the audit log; K8S_DEBUG_MCP_AUDIT_LOG moves it), so a read-only
# root filesystem is fine. Dependencies are the exact versions of constraints.txt (the lock
# the tests ran on; scripts/lock-deps).
#
# BASE: any Debian-like image with python3 >= 3.11 and its venv module (plus useradd). The
# default is the official Python image; CI builds FROM a Debian base it makes with
# mmdebstrap (scripts/build-image). PIP_CERT: a CA bundle path for pip, for builds behind a
# TLS-inspecting proxy; mount the bundle at build time, never COPY it (scripts/build-image).
ARG BASE=python:3.12-slim

FROM ${BASE} AS build
ARG PIP_CERT=
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
RUN python3 -m venv /opt/k8s-debug-mcp
# Dependencies first: this layer survives edits of the source.
COPY constraints.txt /src/constraints.txt
RUN /opt/k8s-debug-mcp/bin/pip install ${PIP_CERT:+--cert "$PIP_CERT"} --no-deps --require-virtualenv \
        --requirement /src/constraints.txt
COPY pyproject.toml README.md LICENSE /src/
COPY k8s_debug_mcp /src/k8s_debug_mcp
COPY server /src/server
COPY tools /src/tools
RUN /opt/k8s-debug-mcp/bin/pip install ${PIP_CERT:+--cert "$PIP_CERT"} --no-deps --require-virtualenv /src \
    && /opt/k8s-debug-mcp/bin/pip check \
    && /opt/k8s-debug-mcp/bin/pip uninstall --yes --require-virtualenv pip setuptools \
    && find /opt/k8s-debug-mcp -name '*.pyc' -delete \
    && /opt/k8s-debug-mcp/bin/python -m compileall -q -j 0 --invalidation-mode unchecked-hash /opt/k8s-debug-mcp/lib

FROM ${BASE}
ARG BASE
ARG VERSION=0.0.0+unknown
ARG REVISION=unknown
ARG CREATED=1970-01-01T00:00:00Z
LABEL org.opencontainers.image.title="k8s-debug-mcp" \
      org.opencontainers.image.description="MCP server to debug Kubernetes workloads like kubectl debug: ephemeral containers, pod copies, logs" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/k8s-debug-mcp/k8s-debug-mcp" \
      org.opencontainers.image.url="https://github.com/k8s-debug-mcp/k8s-debug-mcp" \
      org.opencontainers.image.documentation="https://github.com/k8s-debug-mcp/k8s-debug-mcp#readme" \
      org.opencontainers.image.base.name="${BASE}" \
      io.modelcontextprotocol.server.name="io.github.k8s-debug-mcp/k8s-debug-mcp"
# The audit log's folder is writable by any uid (sticky, like /tmp): `docker run --user` with
# the caller's uid (to read a 0600 kubeconfig) must still be able to write the audit log.
RUN groupadd --system --gid 10001 mcp \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin mcp \
    && install -d -m 1777 /var/lib/k8s-debug-mcp
COPY --from=build /opt/k8s-debug-mcp /opt/k8s-debug-mcp
ENV PATH=/opt/k8s-debug-mcp/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    K8S_DEBUG_MCP_AUDIT_LOG=/var/lib/k8s-debug-mcp/audit.jsonl \
    XDG_STATE_HOME=/var/lib/k8s-debug-mcp
VOLUME ["/var/lib/k8s-debug-mcp"]
USER 10001:10001
WORKDIR /tmp
ENTRYPOINT ["k8s-debug-mcp"]
