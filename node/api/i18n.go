package api

import (
	"errors"
	"net/http"
	"strings"

	"golang.org/x/text/language"

	"github.com/fengqiao/fengqiao/core/errs"
)

// Problems are worded in Chinese when Accept-Language prefers it (zh,
// zh-CN, zh-Hans), in English otherwise. Only the words change: type,
// status, field and rule stay as they are, for programs.
var problemLangs = language.NewMatcher([]language.Tag{language.English, language.SimplifiedChinese})

// wantsChinese reports whether the request's Accept-Language prefers
// Simplified Chinese to English.
func wantsChinese(r *http.Request) bool {
	al := r.Header.Get("Accept-Language")
	if al == "" {
		return false
	}
	tags, _, err := language.ParseAcceptLanguage(al)
	if err != nil || len(tags) == 0 {
		return false
	}
	_, i, conf := problemLangs.Match(tags...)
	return i == 1 && conf != language.No
}

// zhTitles are the problem titles by status.
var zhTitles = map[int]string{
	http.StatusBadRequest:            "请求有误",
	http.StatusUnauthorized:          "未认证",
	http.StatusForbidden:             "无权操作",
	http.StatusNotFound:              "未找到",
	http.StatusMethodNotAllowed:      "不支持该方法",
	http.StatusConflict:              "与当前状态冲突",
	http.StatusRequestEntityTooLarge: "请求体过大",
	http.StatusUnprocessableEntity:   "无法处理的请求",
	http.StatusTooManyRequests:       "请求过多，已暂时锁定",
	http.StatusInternalServerError:   "服务器内部错误",
	http.StatusServiceUnavailable:    "服务暂不可用",
}

// zhRules words each rule in Chinese; {f} is the field. TestEveryRuleIsWorded
// finds every rule the code names and wants it here.
var zhRules = map[string]string{
	"address": "{f} 不是有效的地址", "allowed": "{f} 不在允许的范围内", "alone": "{f} 不能与其他参数同时使用",
	"applied": "该操作已执行过", "area": "{f} 的面积不合理", "audit_chain": "审计链校验失败",
	"auth": "认证失败", "author": "只有作者可以执行此操作", "backpressure": "系统繁忙，请稍后重试",
	"backwards": "{f} 不能回退", "base64": "{f} 不是有效的 Base64 编码", "bearer": "请使用 Bearer 令牌认证",
	"big": "{f} 过大", "binary": "插件文件无效", "birth_date": "身份证号中的出生日期无效",
	"bool": "{f} 只能是 true 或 false", "bootstrapped": "系统已初始化", "changed": "{f} 已被修改",
	"check_digit": "身份证号校验位不正确", "closed": "{f} 已关闭", "combination": "{f} 不能与所给的其他参数组合使用",
	"compacted": "{f} 所指的变更已被清理，请从更新的位置继续", "current": "{f} 已是当前值", "date": "{f} 不是有效的日期",
	"department": "部门名称无效（1 至 64 个字符）", "dev_only": "仅开发模式可用", "digits": "{f} 只能包含数字",
	"dir": "{f} 目录无效", "direction": "消息方向不正确", "disabled": "{f} 已停用",
	"diverged": "该副本的数据与多数副本不一致", "division": "{f} 不是有效的行政区划代码", "duplicate": "{f} 重复出现",
	"empty": "{f} 不能为空", "enum": "{f} 的取值不在允许范围内", "escape": "查询参数 {f} 的百分号编码无效",
	"exists": "{f} 已存在", "expired": "{f} 已过期", "fixed": "{f} 不可修改",
	"forged": "{f} 校验失败，疑似伪造", "form": "表单无效", "format": "{f} 格式不正确",
	"future": "{f} 必须是将来的时间", "geojson": "{f} 不是有效的 GeoJSON", "grid": "{f} 网格无效",
	"hierarchy": "{f} 与上级关系不符", "holder": "持有人信息无效", "hole_outside": "{f} 的内环位于外环之外",
	"host_port": "{f} 应为“主机:端口”", "identity": "{f} 应为部门（dept:名称）、令牌（token:编号）或下级辖区代码",
	"reference": "{f} 应为上传附件时返回的引用（att:…），不接受链接或文件名", "digest": "附件内容与其摘要不符",
	"replicated": "该角色的令牌不向下级同步", "held_elsewhere": "该事件已上报上级，由上级辖区办理，本级只能添加备注", "higher": "只能签发或吊销不高于本人角色的工作人员令牌", "illegal_transition": "当前状态不允许该操作", "immutable": "{f} 不可更改", "in_use": "{f} 正在使用中",
	"invalid": "{f} 无效", "issuer": "证书签发者不正确", "json": "请求体不是有效的 JSON",
	"key": "{f} 密钥无效", "kind": "{f} 类型不正确", "later": "{f} 必须晚于开始时间",
	"length": "{f} 长度超出限制", "location": "{f} 与位置不符", "locked_out": "认证失败次数过多，已暂时锁定",
	"loopback": "{f} 只能是本机地址", "may_not_act": "{f} 所指的令牌不能处置事件", "member": "{f} 不是成员",
	"missing": "缺少 {f}", "no_link": "未与 {f} 建立联动", "no_parent": "没有上级可以上报，请先配置上级辖区",
	"node_wide": "需要覆盖全辖区的令牌", "not_dispatched": "该事件未派遣给本部门或本人，部门处置人员只能处理派给自己的事件", "not_enrolled": "尚未绑定第二认证因子",
	"not_found": "{f} 不存在", "not_lead": "只有主办方可以执行此操作", "not_minor": "{f} 不是未成年人",
	"not_next": "{f} 不是下一个序号", "not_special": "该人员不在特殊人群名单中", "number": "{f} 不是有效的数字",
	"one_leader": "一个网格只能有一名网格长", "one_of": "{f} 只能取其中之一", "order": "{f} 顺序不正确",
	"origin": "{f} 来源不正确", "out_of_area": "{f} 不在任何网格内", "outside_parent": "{f} 超出上级辖区边界",
	"overlap": "基础网格之间不能重叠（可以共边）", "parent": "{f} 上级不正确", "participant": "{f} 不是参与方",
	"participants": "{f} 参与方无效", "past": "{f} 必须是过去的时间", "permission": "当前角色无权执行此操作",
	"place": "{f} 与居住地不符", "plaintext": "{f} 不能以明文提交", "plugin": "插件 {f} 无效",
	"policy": "{f} 不符合策略", "port": "{f} 端口无效", "prefix": "{f} 前缀不正确",
	"primary": "{f} 必须是主节点", "r": "{f} 无效", "range": "{f} 超出允许范围",
	"rated": "该事件已评价", "read": "无法读取请求体", "read_only": "{f} 为只读字段",
	"region": "{f} 地区不正确", "registered_elsewhere": "该身份证号已在其他辖区登记，请通过转移交接办理", "replayed": "{f} 已被使用过",
	"required": "缺少必填项 {f}", "reserved": "{f} 为保留值", "residents": "仍有居民居住，请先迁出",
	"retired": "{f} 已停用", "reused": "该幂等键已用于另一个请求，新请求请使用新的键", "revoked": "{f} 已吊销",
	"ring_size": "{f} 的多边形至少需要 4 个点", "role": "{f} 与角色不符", "route": "{f} 路由无效",
	"same": "{f} 与当前值相同", "schema": "{f} 不符合插件声明的字段格式", "scope": "{f} 超出令牌的管辖范围", "sealed": "{f} 须由系统加密，请提交明文",
	"second_factor": "需要第二认证因子（TOTP）", "self": "{f} 不能是自己", "self_intersection": "{f} 的多边形自相交",
	"separate": "{f} 需单独设置", "size": "{f} 大小超出限制", "special": "当前角色无权查看特殊人群信息",
	"split": "三员分立已完成", "state": "当前状态不允许该操作", "tier": "{f} 层级不正确",
	"time": "{f} 不是有效的时间（日期 YYYY-MM-DD 或 RFC 3339）", "tls": "需要 TLS 连接", "token": "令牌无效或已吊销",
	"type": "{f} 类型不正确", "unavailable": "{f} 不可使用，请换一个", "unchanged": "{f} 未发生变化",
	"unchecked": "{f} 尚未校验", "unclosed": "{f} 的多边形未闭合", "unconfigured": "{f} 尚未配置",
	"unique": "{f} 必须唯一", "unknown": "{f} 不在服务定义中", "unknown_field": "未知字段 {f}", "unknown_key": "未知参数 {f}",
	"version": "{f} 版本不受支持", "voter": "{f} 不是投票节点", "witness": "{f} 见证无效",
	"wrong_jurisdiction": "{f} 不属于该辖区",
}

// zhKinds word an error that names no rule, by its kind.
var zhKinds = []struct {
	kind error
	text string
}{
	{errs.ErrKeyReused, "该幂等键已用于另一个请求"},
	{errs.ErrIllegalTransition, "当前状态不允许该操作"},
	{errs.ErrConflict, "与当前状态冲突"},
	{errs.ErrNotFound, "未找到"},
	{errs.ErrForbidden, "无权操作"},
	{errs.ErrInvalid, "请求有误"},
	{errs.ErrOutcomeUnknown, "写入结果未知，请先查询再决定是否重试"},
	{errs.ErrUnavailable, "服务暂不可用，请稍后重试"},
}

// zhDetail words err in Chinese. A plugin's own rule (it holds a dot)
// keeps the plugin's words, which the plugin may write in Chinese.
func zhDetail(err error, status int) string {
	var fe *errs.FieldError
	if errors.As(err, &fe) {
		if strings.Contains(fe.Rule, ".") {
			return fe.Msg
		}
		if t, ok := zhRules[fe.Rule]; ok {
			f := fe.Field
			if f == "" {
				f = "请求"
			}
			return strings.ReplaceAll(t, "{f}", f)
		}
	}
	for _, k := range zhKinds {
		if errors.Is(err, k.kind) {
			return k.text
		}
	}
	if t, ok := zhTitles[status]; ok {
		return t
	}
	return "请求失败"
}
