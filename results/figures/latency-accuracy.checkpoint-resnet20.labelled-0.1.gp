# Accuracy, FLOPs and latency, data.checkpoint = resnet20, data.labelled = 0.1
# Written by `persephone report`; redraw with: gnuplot -e "set output 'NAME.png'" NAME.gp
set terminal pngcairo size 1200,560 font "sans,10"
set encoding utf8
$curve0 << EOD
29.720493693787 81.75 0.06721754193759902 6.936154893888487
35.02024546032422 86.45 2.032226357367017 5.372987046534185
47.31186830580734 91.55 5.6402276653615635 4.097114348328778
55.07906467071018 93.3 7.084155411238268 3.3772793436554536
66.58977445512623 94.45 8.848337534615458 2.7677420727390056
75.40348775959015 94.75 8.998787900880792 2.618907639958894
91.83982864720866 94.85 8.142788996973968 2.628659501899601
109.34501039327579 94.85 4.323841577816713 2.628659501899601
EOD
$curve1 << EOD
29.66733982967015 91.45 0.030060598610582603 4.117878638844868
29.89324375216676 91.75 0.21861494415764943 4.079033130833582
32.973048786939685 93.85 2.3364256971888175 2.861676000917445
35.625792058722126 95.25 4.137000089878682 2.4737630691756634
40.381584774366424 96.7 6.495393943601127 1.8097257302385628
44.81614486747994 97.05 8.307605177516864 1.7559061492837615
57.28723108587635 96.95 11.041912818783837 1.6473067877549998
80.24300449504183 96.2 12.690982174202412 2.0595433290423655
EOD
$full0 << EOD
100.0 94.85 0 2.628659501899601
EOD
$full1 << EOD
100.0 97.35 0 1.7363683378543866
EOD
$ms0 << EOD
-0.12 0.38449999999999995 0.04147185305196399
0.88 0.7022 0.07292727527164507
1.88 0.9913000000000001 0.0985619161561903
2.88 1.5551999999999997 0.14600946746304896
3.88 1.6227 0.18480839510918
EOD
$ms1 << EOD
0.12 0.42569999999999997 0.02373540846845789
1.12 0.7145999999999999 0.10488768423686956
2.12 1.0769 0.11994527662080037
3.12 1.6404000000000003 0.26701850021417184
4.12 1.7828 0.18225613116088923
EOD
set multiplot layout 1,2 title "Accuracy, FLOPs and latency, data.checkpoint = resnet20, data.labelled = 0.1"
set grid
set key outside bottom center horizontal
set bmargin 7
set title "accuracy against FLOPs over confidence thresholds"
set xlabel "mean FLOPs per sample (% of the full network)"
set ylabel "test accuracy (%)"
set xrange [0:105]
set yrange [*:100]
plot $curve0 using 1:2:3:4 with xyerrorlines linewidth 1.5 pointtype 6 title "global-exits", \
     $curve1 using 1:2:3:4 with xyerrorlines linewidth 1.5 pointtype 7 title "personalised-exits", \
     $full0 using 1:2:3:4 with xyerrorbars pointtype 5 pointsize 1.8 linewidth 2 title "global-full", \
     $full1 using 1:2:3:4 with xyerrorbars pointtype 9 pointsize 1.8 linewidth 2 title "fine-tuned-full"
set title "measured batch-1 latency per classifier (median of timed runs)"
set xlabel "classifier"
set ylabel "latency (ms)"
set xtics ("block2" 0, "block4" 1, "block6" 2, "block8" 3, "final" 4)
set xrange [-0.5:4.5]
set yrange [0:*]
plot $ms0 using 1:2:3 with yerrorbars pointtype 5 pointsize 1.2 linewidth 2 title "global", \
     $ms1 using 1:2:3 with yerrorbars pointtype 7 pointsize 1.2 linewidth 2 title "personalised"
unset multiplot
