FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY keys keys
COPY ledger ledger
COPY licenses licenses
COPY projections projections
COPY api api
RUN pip install --no-cache-dir '.[postgres]'
USER nobody
EXPOSE 8000
CMD ["caseledger", "serve", "--host", "0.0.0.0"]
