"""`/hub/start-queue`: the workspace start line as admins see it (hub admins and the school's
`admins` group): what is starting, who waits in which place, and the estimate each is shown."""

from jupyterhub.handlers import BaseHandler
from tornado import web

from hub import start_queue
from lms_api.principal import ADMINS_GROUP


class StartQueueHandler(BaseHandler):
    @web.authenticated
    async def get(self) -> None:
        user = self.current_user
        if not (user.admin or ADMINS_GROUP in {group.name for group in user.groups}):
            raise web.HTTPError(403, "Only admins see the workspace start line.")
        self.set_header("Cache-Control", "no-store")
        self.finish(
            await self.render_template(
                "start-queue.html",
                line=start_queue.START_QUEUE.snapshot(),
                in_words=start_queue.in_words,
            )
        )
