from tests.client.conftest import live as live
