"""Every URL and OIDC audience the code and Terraform send calls to is a function Terraform declares.

The calls found in the code (tests/unit/infra/deploy_model.py reads every ``tasks.enqueue`` and
``bus.publish`` of the runtime) are made for real: each task goes through the Cloud Tasks adapter and
the real google-cloud-tasks client to the in-memory Cloud Tasks of tests/contract/grpc_fakes.py, with
the TOWER_TASKS_TARGET_URL and TOWER_TASKS_SERVICE_ACCOUNT Terraform gives the functions. The URL and
audience it sends must then be the ``https://REGION-PROJECT.cloudfunctions.net/NAME`` of a declared
function whose entry point is the task's handler, triggered by that queue, which the signing account
may invoke. Pub/Sub pushes and Cloud Scheduler calls are declared by Terraform itself: each must reach
the function of an entry point triggered that way, with the service URL as audience. This is the check
that would have caught tasks sent to ``.../sync_shopify`` while the function is ``tower-sync-shopify``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest
from deploy_model import (
    Iam,
    code_calls,
    function_env,
    functions_by_entry_point,
    resolve_outputs,
)
from test_terraform import REPO, Config, Instance, render

sys.path.insert(0, str(REPO / "tests" / "contract"))
from grpc_fakes import FakeCloudTasks

PROJECT = "tower-test"

# Topics the code publishes to that no function consumes yet, and why that is expected. A topic with no
# subscription drops its messages; the alerts stay readable in the document store meanwhile.
UNSUBSCRIBED: dict[str, str] = {}


def _trigger(fn: Instance) -> str:
    """The trigger the functions module was given for this function (``queue:tower-sync``...)."""
    assert fn.each is not None
    return str(fn.each[1]["trigger"])


def _concrete(text: str) -> str:
    return text.replace("${var.project_id}", PROJECT)


def cloudfunctions_url(fn: Instance) -> str:
    """Where Cloud Functions serves a function: ``https://REGION-PROJECT.cloudfunctions.net/NAME``."""
    return _concrete(f"https://{render(fn.attr('location'))}-{render(fn.attr('project'))}.cloudfunctions.net/"
                     f"{render(fn.attr('name'))}")


def service_uri(config: Config, entry_point: str) -> str:
    """How a function's run.app URL reads once evaluated (``module.functions.uris["ep"]``)."""
    for name, child in config.root.children().items():
        if child.resources("google_cloudfunctions2_function"):
            return "${module." + name + '.uris["' + entry_point + '"]}'
    raise LookupError("no module declares the functions")


def task_call_problems(config: Config, queue: str, handler: str, url: str, audience: str, signer: str) -> list[str]:
    """What is wrong with a task the code sends: unknown URL, wrong function, audience or signer."""
    functions = functions_by_entry_point(config)
    by_url = {cloudfunctions_url(fn): (ep, fn) for ep, fn in functions.items()}
    where = f"task {handler} on {queue}"
    if url not in by_url:
        return [f"{where}: {url} is no declared function (404); declared: {sorted(by_url)}"]
    ep, fn = by_url[url]
    problems = []
    if ep != handler:
        problems.append(f"{where}: {url} is the function of {ep}, not of {handler}")
    if _trigger(fn) != f"queue:{queue}":
        problems.append(f"{where}: {fn.attr('name')} is triggered by {_trigger(fn)}, not queue:{queue}")
    if audience != url:
        problems.append(f"{where}: OIDC audience {audience} is not the function's URL {url} (401)")
    if not Iam.of(config).allows(f"serviceAccount:{signer}", "run.routes.invoke", f"run:{fn.attr('name')}"):
        problems.append(f"{where}: {signer} may not invoke {fn.attr('name')} (403)")
    declared_queues = {str(q.attr("name")) for q in config.instances("google_cloud_tasks_queue")}
    if queue not in declared_queues:
        problems.append(f"{where}: queue {queue} is not declared")
    return problems


@pytest.fixture(scope="module")
def config() -> Config:
    return Config.from_repo()


@pytest.fixture(scope="module")
def tasks() -> Iterator[FakeCloudTasks]:
    fake = FakeCloudTasks(PROJECT, "us-central1").start()
    yield fake
    fake.stop()


def _send(config: Config, fake: FakeCloudTasks, queue: str, handler: str) -> tuple[str, str, str]:
    """Enqueue one task through the adapter as a deployed function would; the URL, audience, signer sent."""
    from tower.adapters.cloud_tasks import CloudTasksQueue

    fn = next(iter(functions_by_entry_point(config).values()))
    env = function_env(config, fn)
    region = render(fn.attr("location"))
    fake.location = region
    q = CloudTasksQueue(PROJECT, region, _concrete(env["TOWER_TASKS_TARGET_URL"]),
                        env["TOWER_TASKS_SERVICE_ACCOUNT"], client=fake.client())
    try:
        q.enqueue(queue, handler, {"brand_id": "b1"})
    finally:
        q.close()
    http = fake.requests[-1].task.http_request
    return http.url, http.oidc_token.audience, http.oidc_token.service_account_email


def test_the_code_enqueues_tasks_somewhere() -> None:
    calls = code_calls()
    assert calls.unresolved == []
    handlers = {c.args[1] for c in calls.calls if c.kind == "enqueue"}
    assert {"sync_shopify", "sync_meta", "sync_tiktok", "sync_google_ads", "apply_budget_change"} <= handlers


@pytest.mark.parametrize(
    ("queue", "handler"),
    sorted({c.args for c in code_calls().calls if c.kind == "enqueue"}),
)
def test_every_task_the_code_sends_reaches_its_declared_function(
    config: Config, tasks: FakeCloudTasks, queue: str, handler: str,
) -> None:
    url, audience, signer = _send(config, tasks, queue, handler)
    assert task_call_problems(config, queue, handler, url, audience, signer) == []


def test_a_task_sent_to_the_entry_point_name_is_reported(config: Config) -> None:
    # What the adapter sent before: {base}/{entry point}. Cloud Functions answers 404 to it.
    fn = functions_by_entry_point(config)["sync_shopify"]
    base = cloudfunctions_url(fn).rsplit("/", 1)[0]
    signer = function_env(config, fn)["TOWER_TASKS_SERVICE_ACCOUNT"]
    problems = task_call_problems(config, "tower-sync", "sync_shopify", f"{base}/sync_shopify",
                                  f"{base}/sync_shopify", signer)
    assert len(problems) == 1 and "is no declared function (404)" in problems[0]
    wrong_audience = task_call_problems(config, "tower-sync", "sync_shopify", f"{base}/tower-sync-shopify",
                                        base, signer)
    assert any("OIDC audience" in p for p in wrong_audience)
    wrong_function = task_call_problems(config, "tower-sync", "sync_meta", f"{base}/tower-sync-shopify",
                                        f"{base}/tower-sync-shopify", signer)
    assert any("not of sync_meta" in p for p in wrong_function)
    stranger = task_call_problems(config, "tower-sync", "sync_shopify", f"{base}/tower-sync-shopify",
                                  f"{base}/tower-sync-shopify", "someone@example.iam.gserviceaccount.com")
    assert any("may not invoke tower-sync-shopify" in p for p in stranger)


def _subscriptions(config: Config) -> dict[str, Instance]:
    return {str(s.attr("name")): s for s in config.instances("google_pubsub_subscription")}


def _topic_of(sub: Instance) -> str:
    ref: Any = sub.attr("topic")
    return str(ref.instance.attr("name")) if hasattr(ref, "instance") else render(ref)


def push_problems(config: Config) -> list[str]:
    """Each push subscription reaches the function of an entry point triggered by its topic."""
    functions = functions_by_entry_point(config)
    iam = Iam.of(config)
    problems = []
    for name, sub in sorted(_subscriptions(config).items()):
        pushes = sub.blocks("push_config")
        if not pushes:
            continue
        topic = _topic_of(sub)
        endpoint = render(pushes[0].attr("push_endpoint"))
        token = pushes[0].first("oidc_token")
        audience = render(token.attr("audience"))
        targets = [ep for ep in functions if endpoint.startswith(service_uri(config, ep))]
        if len(targets) != 1:
            problems.append(f"subscription {name}: push endpoint {endpoint} is no declared function")
            continue
        ep = targets[0]
        fn = functions[ep]
        if _trigger(fn) != f"topic:{topic}":
            problems.append(f"subscription {name} on {topic} pushes to {ep}, triggered by {_trigger(fn)}")
        if audience != service_uri(config, ep):
            problems.append(f"subscription {name}: audience {audience} is not {ep}'s service URL")
        signer = resolve_outputs(config, render(token.attr("service_account_email")))
        if not iam.allows(f"serviceAccount:{signer}", "run.routes.invoke", f"run:{fn.attr('name')}"):
            problems.append(f"subscription {name}: {signer} may not invoke {fn.attr('name')}")
    return problems


def published_topic_problems(config: Config) -> list[str]:
    """Each topic the code publishes to is declared, and consumed or knowingly not (UNSUBSCRIBED)."""
    declared = {str(t.attr("name")) for t in config.instances("google_pubsub_topic")}
    consumed = {_topic_of(s) for s in _subscriptions(config).values() if s.blocks("push_config")}
    triggered = {_trigger(fn).partition(":")[2] for fn in functions_by_entry_point(config).values()
                 if _trigger(fn).startswith("topic:")}
    problems = []
    for topic in sorted({c.args[0] for c in code_calls().calls if c.kind == "publish"}):
        if topic not in declared:
            problems.append(f"the code publishes to {topic}, which is not declared")
        elif topic not in consumed and topic not in UNSUBSCRIBED:
            problems.append(f"the code publishes to {topic} and nothing consumes it: messages are dropped")
        elif topic in UNSUBSCRIBED and (topic in consumed or topic in triggered):
            problems.append(f"{topic} is consumed now: take it out of UNSUBSCRIBED")
    return problems


def scheduler_problems(config: Config) -> list[str]:
    functions = functions_by_entry_point(config)
    iam = Iam.of(config)
    problems = []
    for job in config.instances("google_cloud_scheduler_job"):
        target = job.first("http_target")
        uri, token = render(target.attr("uri")), target.first("oidc_token")
        eps = [ep for ep in functions if uri == service_uri(config, ep)]
        if not eps:
            problems.append(f"job {job.attr('name')}: {uri} is no declared function")
            continue
        fn = functions[eps[0]]
        if not _trigger(fn).startswith("schedule"):
            problems.append(f"job {job.attr('name')} calls {eps[0]}, triggered by {_trigger(fn)}")
        if render(token.attr("audience")) != uri:
            problems.append(f"job {job.attr('name')}: audience is not {eps[0]}'s service URL")
        signer = resolve_outputs(config, render(token.attr("service_account_email")))
        if not iam.allows(f"serviceAccount:{signer}", "run.routes.invoke", f"run:{fn.attr('name')}"):
            problems.append(f"job {job.attr('name')}: {signer} may not invoke {fn.attr('name')}")
    return problems


def test_every_push_subscription_reaches_a_function_of_its_topic(config: Config) -> None:
    assert push_problems(config) == []


def test_every_topic_the_code_publishes_to_is_declared_and_consumed(config: Config) -> None:
    assert published_topic_problems(config) == []


def test_every_scheduler_job_calls_a_scheduled_function(config: Config) -> None:
    assert scheduler_problems(config) == []
    assert config.instances("google_cloud_scheduler_job")


def test_a_push_to_the_wrong_function_is_reported() -> None:
    files = Config.from_repo().files
    files["infra/modules/pubsub/main.tf"] = files["infra/modules/pubsub/main.tf"].replace(
        "push_endpoint = \"${var.push_endpoints[each.value.entry_point]}",
        "push_endpoint = \"${var.push_endpoints[\"api\"]}",
    )
    problems = push_problems(Config(files))
    assert any("pushes to api, triggered by http" in p for p in problems), problems


def test_a_job_signed_by_an_account_without_invoker_is_reported() -> None:
    files = Config.from_repo().files
    files["main.tf"] = files["main.tf"].replace(
        "invoker_email = module.iam.scheduler_email", "invoker_email = module.iam.push_invoker_email")
    assert any("may not invoke tower-schedule-syncs" in p for p in scheduler_problems(Config(files)))
