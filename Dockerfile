# The image compose.yaml builds: Skillpath with the PostgreSQL driver, as an unprivileged user.
FROM python:3.11-slim
WORKDIR /opt/skillpath
COPY . /opt/skillpath/src
RUN pip install --no-cache-dir '/opt/skillpath/src[postgres]' && rm -rf /opt/skillpath/src \
    && useradd --system --home-dir /var/lib/skillpath --create-home skillpath
USER skillpath
ENV SKILLPATH_INSTANCE_PATH=/var/lib/skillpath
EXPOSE 8000
CMD ["skillpath", "serve", "--bind", "0.0.0.0:8000"]
