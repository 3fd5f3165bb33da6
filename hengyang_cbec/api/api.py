"""The API object: version 1 at /api/v1/, its OpenAPI document at /api/v1/openapi.json."""

from __future__ import annotations

from ninja import NinjaAPI
from ninja.renderers import JSONRenderer

from . import errors
from .routers import applications, assess, notices, payments, policies, statistics

DESCRIPTION = """\
衡阳市跨境电商资助平台的开放接口。公开部分无需密钥：政策版本、措施、事实、参数、解读、测算、公示和批复通知核验。\
其他系统使用安全管理员签发的 API 密钥（请求头 `X-API-Key`），每个密钥限定范围：\
`read_statuses`（申报状态）、`import_statistics`（统计数据导入，待人工批准）、\
`exchange_payments`（拨付批次与银行结果，待人工确认）。凡使用密钥的调用都记入审计日志，\
并按密钥限流。申报人也可自行创建只读令牌，查询本企业的申报（`read_own_applications`）。\
金额一律为两位小数的字符串（元）。

The open API of the Hengyang cross-border e-commerce subsidy portal. Public, without a key: policy \
versions, measures, facts, parameters, interpretations, the calculator, public notices and the \
verification of approval notices. Other systems use an API key issued by the security \
administrator (header `X-API-Key`), limited to scopes: `read_statuses`, `import_statistics` \
(proposals a person approves), `exchange_payments` (batches, and the bank's result as a proposal \
a person confirms). Every call made with a key is audited and rate-limited per key. An \
applicant may create a read-only token for their enterprise's applications \
(`read_own_applications`). Money is a string with two decimals (CNY).
"""


class Renderer(JSONRenderer):
    """JSON with Chinese as characters, not escapes."""

    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    renderer=Renderer(),
    title="衡阳跨境电商资助平台 API · Hengyang CBEC subsidy portal API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    docs_url=None,  # the reference page is /api/ (views.reference)
    openapi_url="openapi.json",
)
errors.install(api)
for module in (policies, assess, notices, applications, statistics, payments):
    api.add_router("", module.router)
api.add_router("", applications.mine)
