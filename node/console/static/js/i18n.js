// zh-CN first: the Chinese text is the key, English its translation.
const en = {
  '工作台': 'Queue', '一张图': 'Map', '事件': 'Event', '人口': 'People', '党建': 'Party', '数据': 'Figures',
  '联动': 'Federation', '插件': 'Plugins', '登录': 'Sign in', '退出': 'Sign out', '令牌': 'Token',
  '动态口令（管理员）': 'One-time code (administrators)', '我的待办': 'My queue', '辖区全部': 'Jurisdiction',
  '状态': 'Status', '类别': 'Category', '网格': 'Grid', '紧急程度': 'Urgency', '超期': 'Overdue', '督办': 'Supervised',
  '开始': 'From', '结束': 'To', '搜索': 'Search', '全部': 'All', '编号': 'Number', '描述': 'Description',
  '剩余时限': 'Time left', '上报时间': 'Reported', '批量': 'Bulk', '原因': 'Reason', '执行': 'Apply',
  '已选': 'selected', '处置部门': 'Handler', '导出': 'Export', '刷新': 'Refresh', '共': 'Total',
  '已超期': 'overdue', '小时': 'h', '分钟': 'min', '天': 'd', '时间线': 'Timeline', '附件': 'Attachments',
  '可办操作': 'Actions', '无可办操作': 'No action available to this token', '由上级办理': 'Held by the tier above',
  '上报事件': 'Report an event', '在地图上点击选择位置': 'Click the map to choose the place', '提交': 'Submit',
  '热力图': 'Heat map', '网格员': 'Grid workers', '党组织': 'Party branch', '三率': 'Rates',
  '查看详情': 'Reveal', '法律依据': 'Legal basis', '用途': 'Purpose', '取消': 'Cancel', '确定': 'Confirm',
  '待走访': 'Visit due', '走访超期': 'Visit overdue', '特殊人群': 'Special population', '姓名': 'Name',
  '身份证号': 'ID number', '类型': 'Kind', '导入': 'Import', '进度': 'Progress', '未覆盖网格': 'Grids without a branch',
  '三会一课落后': 'Behind on 三会一课', '按期办结率': 'On-time rate', '结案率': 'Closure rate', '满意率': 'Satisfaction',
  '返工率': 'Rework rate', '延期率': 'Extension rate', '月度通报': 'Monthly bulletin', '月度趋势': 'By month', '按网格': 'By grid',
  '成员与领导者': 'Members and leaders', '链路': 'Links', '跨区域案件': 'Cross-region cases', '时延': 'Lag',
  '积压': 'Outbox depth', '版本': 'Version', '运行中': 'Running', '路由': 'Routes', '备份': 'Backup', '下载': 'Download',
  '网格员端': 'Phone view', '无权访问': 'Not permitted for this token', '没有找到': 'Not found', '已同步': 'Synced',
  '上报人': 'Reporter', '位置': 'Location', '受理时限': 'Accept by', '办结时限': 'Deadline', '主办': 'Lead', '协办': 'Co-handlers',
  '新增记录': 'Add entry', '打开': 'Open', '处理中': 'Holder', '离线待同步': 'Waiting to sync', '我的网格': 'My grid',
  '待办': 'My queue', '拍照': 'Photo', '巡查清单': 'Patrol checklist', '记录': 'Record', '数量': 'Count', '排名': 'Rank',
  '本月': 'This month', '周期': 'Period', '机构': 'Unit', '无': 'None',
};
let lang = localStorage.getItem('fq.lang') || 'zh-CN';
export function t(zh) { return lang === 'en' ? (en[zh] || zh) : zh; }
export function getLang() { return lang; }
export function setLang(l) { lang = l; localStorage.setItem('fq.lang', l); document.documentElement.lang = l; }
// Status and action names: the transition table names actions in Chinese;
// statuses are named here.
const statusZh = { reported: '待受理', accepted: '已受理', dispatched: '已派遣', in_progress: '处置中', resolved: '待核查',
  closed: '已结案', rejected: '不予受理', suspended: '挂账', escalated: '已上报', merged: '已合并' };
export function statusName(s) { return lang === 'en' ? s.replace('_', ' ') : (statusZh[s] || s); }
export const statuses = Object.keys(statusZh);
