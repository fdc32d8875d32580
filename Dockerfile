# The application image: web (gunicorn), Celery worker and beat all run from it.

# Front-end packages pinned in package-lock.json; only the files copied to static/vendor remain.
FROM node:20-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 CSM_INSTANCE_DIR=/var/lib/csm
WORKDIR /app
COPY pyproject.toml README.md ./
# every package pyproject.toml lists (tests/test_packaging.py checks this list against it)
COPY aftersales aftersales
COPY engine engine
COPY forms forms
COPY webapp webapp
COPY worker worker
COPY bpmn bpmn
COPY migrations migrations
COPY scripts/vendor_assets.py scripts/vendor_assets.py
COPY --from=assets /src/node_modules node_modules
RUN python scripts/vendor_assets.py && rm -rf node_modules \
    && pip install --no-cache-dir . && mkdir -p /var/lib/csm \
    && python -c "from webapp.i18n import compile_catalogs; compile_catalogs()"

EXPOSE 5000
CMD ["gunicorn", "--bind", "0.0.0.0:5000", "--workers", "4", "--worker-class", "gthread", \
     "--threads", "8", "--access-logfile", "-", "webapp:create_app()"]
