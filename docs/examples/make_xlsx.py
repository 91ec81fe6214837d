#!/usr/bin/python3
"""Writes term-2025-autumn-cx.xlsx: the village school's register of term-2025-autumn-cx.csv as
an office keeps it in Excel: Chinese column names, Chinese words for categories, roles, levels
and grades, real Excel dates. The quickstart imports it. Run with Debian's python3-openpyxl:
    /usr/bin/python3 docs/examples/make_xlsx.py
"""
import csv
import datetime
import os

import openpyxl

HERE = os.path.dirname(os.path.abspath(__file__))
COLUMNS = {"teacher_id": "教师编号", "name": "姓名", "date": "日期", "category": "类别",
           "role": "角色", "minutes": "分钟", "hours": "学时", "days": "天数", "chars": "字数",
           "unit": "单元", "level": "级别", "grade": "等级", "work": "题目", "event": "活动",
           "score": "成绩", "note": "备注"}
WORDS = {
    "category": {"lecture": "专题讲座", "external_training": "集中培训",
                 "online_training": "远程网络培训", "research_session": "校本教研活动",
                 "open_class": "公开课", "reflection": "教学反思", "teaching_design": "教学设计",
                 "paper": "论文", "project": "课题研究", "exam": "专业知识考试"},
    "role": {"participant": "参与", "speaker": "主讲", "organizer": "组织", "host": "主持",
             "main_writer": "主要执笔人"},
    "level": {"school": "校级", "county": "县级", "municipal": "市级", "provincial": "省级",
              "national": "国家级"},
    "grade": {"1": "一等奖", "2": "二等奖", "3": "三等奖", "published": "公开发表"},
}
NUMBERS = ("minutes", "hours", "days", "chars", "score")

with open(os.path.join(HERE, "term-2025-autumn-cx.csv"), encoding="utf-8-sig") as f:
    rows = list(csv.DictReader(f))
book = openpyxl.Workbook()
sheet = book.active
sheet.title = "学时登记表"
names = list(rows[0].keys())
sheet.append([COLUMNS[n] for n in names])
for row in rows:
    out = []
    for n in names:
        v = row[n]
        if v and n == "date":
            v = datetime.datetime.strptime(v, "%Y-%m-%d")
        elif v and n in WORDS:
            v = WORDS[n].get(v, v)
        elif v and n in NUMBERS:
            v = float(v) if "." in v else int(v)
        out.append(v if v != "" else None)
    sheet.append(out)
for cell in sheet["C"][1:]:
    cell.number_format = "yyyy/m/d"
book.save(os.path.join(HERE, "term-2025-autumn-cx.xlsx"))
