import psycopg

from darkhorses_assets.local.postgres import sqlalchemy_psycopg2_url


def test_fresh_database_is_real_and_empty(postgres_url):
    with psycopg.connect(postgres_url) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchone()[0]
    assert int(version.split(".")[0]) >= 15
    assert tables == 0


def test_sqlalchemy_url_names_psycopg2_driver():
    assert sqlalchemy_psycopg2_url("postgresql://u:p@h:5432/db") == "postgresql+psycopg2://u:p@h:5432/db"
    assert sqlalchemy_psycopg2_url("postgres://u@/db?host=/tmp") == "postgresql+psycopg2://u@/db?host=/tmp"
    assert sqlalchemy_psycopg2_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg2://u@h/db"
