"""What one simulated sales rep does, over a real login session (cookie + XSRF header):
browse (list, open one), search, create (an account, and a deal on it), update an own account,
and move an own deal between the pipeline's first two stages. Ids come from the answers the
user got, as in a browser. Every unexpected status is an error; none is expected."""
from __future__ import annotations

import random
from dataclasses import dataclass, field

import aiohttp

from bench.httpload import Stats, call
from bench.names import CITIES, Names

ACTIONS = (("browse", 40), ("search", 20), ("create", 15), ("update", 15), ("move", 10))


@dataclass
class Plan:
    """Facts every simulated user shares: the two stages deals move between, per pipeline."""

    stages: dict[int, tuple[int, int]] = field(default_factory=dict)
    deals: bool = True


class VirtualUser:
    def __init__(self, login: str, password: str, base_url: str, plan: Plan, seed: int,
                 stats: dict[str, Stats]):
        self.login_name, self.password = login, password
        self.base_url, self.plan = base_url, plan
        self.rng = random.Random(seed)
        self.names = Names(seed)
        self.stats = stats
        self.accounts: list[int] = []
        self.deals: list[dict] = []
        self.headers: dict[str, str] = {}

    async def request(self, http, action: str, method: str, path: str, body=None,
                      accepted=(200,)):
        return await call(http, self.base_url, (method, path, body, accepted),
                          self.stats[action], headers=self.headers)

    async def login(self, http: aiohttp.ClientSession) -> bool:
        answer = await self.request(http, "login", "POST", "/api/v1/auth/login",
                                    {"login": self.login_name, "password": self.password})
        if not answer:
            return False
        self.headers = {"X-XSRF-Token": answer["xsrf_token"]}
        return True

    async def step(self, http) -> None:
        action = self.rng.choices([a for a, _ in ACTIONS], weights=[w for _, w in ACTIONS])[0]
        if action == "move" and not self.plan.deals:
            action = "update"
        await getattr(self, action)(http)

    # ------------------------------------------------------------------ actions
    async def browse(self, http) -> None:
        page = await self.request(http, "browse", "GET", "/api/v1/accounts?limit=20")
        if page and page.get("items"):
            self.accounts = [item["id"] for item in page["items"]]
            await self.request(http, "browse", "GET",
                               f"/api/v1/accounts/{self.rng.choice(self.accounts)}")
        if self.plan.deals:
            deals = await self.request(http, "browse", "GET", "/api/v1/opportunities?limit=20")
            if deals and deals.get("items"):
                self.deals = deals["items"]

    async def search(self, http) -> None:
        city = self.rng.choice(CITIES)
        await self.request(http, "search", "GET", f"/api/v1/accounts?q={city}&limit=20")
        surname = self.names.person()[0]
        await self.request(http, "search", "GET", f"/api/v1/contacts?q={surname}&limit=20")

    async def create(self, http) -> None:
        name, industry, _ = self.names.company()
        made = await self.request(http, "create", "POST", "/api/v1/accounts",
                                  {"name": name, "industry": industry}, (201,))
        if not made or not self.plan.deals:
            return
        account = made["account"]["id"]
        self.accounts.append(account)
        amount = self.rng.randrange(5, 300) * 10_000
        await self.request(http, "create", "POST", "/api/v1/opportunities",
                           {"name": f"{name[:8]}{self.names.product()}项目", "account": account,
                            "amount": str(amount), "budget": str(amount),
                            "expected_close": "2027-06-30"}, (201,))

    async def update(self, http) -> None:
        if not self.accounts:
            return await self.browse(http)
        account = self.rng.choice(self.accounts)
        await self.request(http, "update", "PATCH", f"/api/v1/accounts/{account}",
                           {"address": f"高新区科技路{self.rng.randrange(1, 999)}号"})

    async def move(self, http) -> None:
        movable = [d for d in self.deals if _id(d.get("pipeline")) in self.plan.stages
                   and _id(d.get("stage")) in self.plan.stages[_id(d.get("pipeline"))]]
        if not movable:
            return await self.browse(http)
        deal = self.rng.choice(movable)
        first, second = self.plan.stages[_id(deal["pipeline"])]
        target = second if _id(deal["stage"]) == first else first
        moved = await self.request(http, "move", "POST", f"/api/v1/opportunities/{deal['id']}/move",
                                   {"stage": target})
        if moved:
            deal["stage"] = target


def _id(value):
    return value.get("id") if isinstance(value, dict) else value
