"""WebSocket consumers of the demo blog."""

from channels.generic.websocket import AsyncWebsocketConsumer

MAX_ECHO_BYTES = 4096


class EchoConsumer(AsyncWebsocketConsumer):
    """Send every text frame back; close with 1009 on frames over the size cap."""

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None:
            await self.close(code=1003)
            return
        if len(text_data.encode()) > MAX_ECHO_BYTES:
            await self.close(code=1009)
            return
        await self.send(text_data=text_data)
