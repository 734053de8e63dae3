# CPU image. Build: docker build -t interview-coach .   Run: docker run -p 8000:8000 -v coach-data:/data interview-coach
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DATABASE_URL=sqlite+aiosqlite:////data/data.db \
    HOST=0.0.0.0 \
    PORT=8000 \
    DEVICE=cpu

# libgomp for CTranslate2/ONNX Runtime threads, libglib for MediaPipe, Pango + HarfBuzz + a font for WeasyPrint (PDF report).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 libglib2.0-0 \
       libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin coach \
    && mkdir -p /data && chown coach:coach /data

WORKDIR /srv
COPY requirements.txt ./
RUN pip install -r requirements.txt \
    && pip uninstall -y opencv-contrib-python opencv-python \
    && pip install --force-reinstall --no-deps opencv-python-headless==4.11.0.86

COPY alembic.ini pyproject.toml ./
COPY alembic ./alembic
COPY app ./app

USER coach
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status == 200 else 1)"
CMD ["python", "-m", "app", "serve"]
