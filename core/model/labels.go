package model

// Chinese labels of the codes the API uses, for exports and the console.
// A code without a label shows as itself.

// StatusLabels names each event state.
var StatusLabels = map[Status]string{
	StatusReported: "已上报", StatusAccepted: "已受理", StatusRejected: "不予受理", StatusDispatched: "已派遣",
	StatusInProgress: "处置中", StatusResolved: "已处置", StatusClosed: "已结案", StatusSuspended: "挂账",
	StatusEscalated: "已上报上级", StatusMerged: "已合并",
}

// UrgencyLabels names each urgency.
var UrgencyLabels = map[string]string{UrgencyNormal: "一般", UrgencyUrgent: "紧急", UrgencyCritical: "特急"}

// SourceLabels names each source of a report.
var SourceLabels = map[string]string{"grid_worker": "网格员上报", "resident": "群众上报", "hotline_12345": "12345 热线",
	"video": "视频发现", "superior": "上级交办", "plugin": "插件", "system": "系统生成"}

// ResidentKindLabels names each kind of resident (GB/T 31000 人口类别).
var ResidentKindLabels = map[string]string{"registered": "户籍人口", "floating": "流动人口", "foreign": "境外人员", "left_behind": "留守人员"}

// HouseUseLabels names each use of a house.
var HouseUseLabels = map[string]string{"residential": "住宅", "commercial": "商业", "office": "办公", "industrial": "工业",
	"warehouse": "仓储", "mixed": "商住混用", "other": "其他"}

// SatisfactionLabels names each 回访 rating.
var SatisfactionLabels = map[string]string{"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}

// Label returns the label labels give code, or code itself.
func Label[K ~string](labels map[K]string, code K) string {
	if l, ok := labels[code]; ok {
		return l
	}
	return string(code)
}
