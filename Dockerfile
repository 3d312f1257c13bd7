# goinv on a Jupyter docker-stacks image: JupyterLab and the classic Notebook with the
# "Go (goinv)" kernel and the six notebooks.
#
#   docker build -t goinv .
#   docker run --rm -p 8888:8888 goinv
#
# UNTESTED: no Docker engine runs where goinv is developed and tested, so this file has
# never been built. It follows the docker-stacks conventions (root for apt, then
# ${NB_USER}; the Python environment in ${CONDA_DIR}).
FROM quay.io/jupyter/base-notebook:2024-12-09

ARG GO_VERSION=1.26.8

USER root
# OpenBLAS for the toolkit's matrix products; gcc because goinv links OpenBLAS through cgo.
RUN apt-get update -q \
    && apt-get install -y -q --no-install-recommends libopenblas-dev gcc libc6-dev ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
RUN curl -fsSL "https://go.dev/dl/go${GO_VERSION}.linux-amd64.tar.gz" | tar -C /usr/local -xz
ENV PATH=/usr/local/go/bin:${PATH} \
    GOPATH=/opt/go \
    GOFLAGS=-mod=readonly

COPY . /opt/goinv
WORKDIR /opt/goinv
# Build the kernel once, then register it in the image's Python environment so every
# user of the image (and JupyterHub with this image) sees it.
RUN go build -o /opt/goinv/bin/goinv ./kernel/cmd/goinv \
    && go run ./install --sys-prefix \
    && jupyter kernelspec list \
    && cp -r /opt/goinv/notebooks "/home/${NB_USER}/notebooks" \
    && rm -rf "/home/${NB_USER}/notebooks/test" "/home/${NB_USER}/notebooks/_scratch" \
    && fix-permissions "/home/${NB_USER}" /opt/goinv \
    && chmod -R a+rX /opt/go /opt/goinv

USER ${NB_UID}
WORKDIR /home/${NB_USER}/notebooks
