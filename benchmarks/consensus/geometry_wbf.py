"""Runs ensemble-boxes' WBF in its own venv (.venv-geobench): JSON in, JSON out.

Input: {"tasks": [[{"boxes": [[x1,y1,x2,y2] normalised], "labels": [int]}, ...per worker], ...]}
Output: {"tasks": [{"boxes": [[x1,y1,x2,y2]], "scores": [...], "labels": [...]}, ...]}
"""

import json
import sys

from ensemble_boxes import weighted_boxes_fusion


def main() -> None:
    data = json.load(open(sys.argv[1]))
    out = []
    for workers in data["tasks"]:
        boxes = [w["boxes"] for w in workers if w["boxes"]]
        labels = [w["labels"] for w in workers if w["boxes"]]
        if not boxes:
            out.append({"boxes": [], "scores": [], "labels": []})
            continue
        scores = [[1.0] * len(b) for b in boxes]
        # WBF divides each fused score by the number of models; pad with empty models so a box
        # drawn by k of n workers scores k/n, as with our quorum.
        pad = len(workers) - len(boxes)
        b, s, lab = weighted_boxes_fusion(
            boxes + [[]] * pad,
            scores + [[]] * pad,
            labels + [[]] * pad,
            iou_thr=0.55,
            skip_box_thr=0.0,
        )
        out.append({"boxes": b.tolist(), "scores": s.tolist(), "labels": lab.tolist()})
    json.dump({"tasks": out}, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
