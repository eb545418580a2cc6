# k8s-debug-mcp as a container: stdio by default (`docker run -i --rm -v ~/.kube:/kube:ro
#   k8s-debug-mcp --kubeconfig /kube/config`), or in-cluster with a ServiceAccount
#   (`--in-cluster`). Runs as an unprivileged user; nothing is written to the image.
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY k8s_debug_mcp ./k8s_debug_mcp
COPY server ./server
COPY tools ./tools
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.12-slim
RUN useradd --uid 10001 --create-home mcp
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER 10001
ENV PYTHONUNBUFFERED=1
ENTRYPOINT ["k8s-debug-mcp"]
