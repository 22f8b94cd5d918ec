from modules.leads.tests.capture_org import *
from modules.leads import services
from modules.leads.models import Lead

def test_smoke(org, tmp_path):
    ctx = org.ctx("rep1")
    out = services.create_lead(ctx, {"name": "张三", "mobile": "+86 138-0013-8000", "company": "上海振华重工股份有限公司", "source": "官网", "region": "华东", "budget": "50万"})
    print(out)
    from modules.leads.importer import service
    from modules.leads.importer.run import execute
    path = write(tmp_path, "a.csv", csv_bytes([row("李四", "13800138000"), row("王五", "138 0013 8001", "W@x.com"), row("", "123")], encoding="gbk"))
    run, resumed = service.start(org.ctx(None), path, "a.csv", {"policy": "skip"}, division=org.divisions["IA"].id)
    res = execute(org.ctx(None), run.id)
    print(service.as_dict(res))
    print([ (l.name, l.mobile, l.owner_id) for l in Lead.select()])
