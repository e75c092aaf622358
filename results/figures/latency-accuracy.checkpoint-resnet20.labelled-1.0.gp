# Accuracy, FLOPs and latency, data.checkpoint = resnet20, data.labelled = 1.0
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
29.65405136364094 94.25 2.6789322319565702e-15 3.70273507231203
29.869142959528638 94.55 0.18878078827244443 3.6337580358139006
32.74492282443284 96.65 2.172247340113577 2.3548296688169614
35.63198240727288 97.75 4.426242499168238 1.3087751706361286
40.904725631104796 98.2 7.4650343939286365 1.0421211331686557
46.199632294613124 98.05 9.495630726468832 1.1367199060774835
60.337499824581 97.55 13.026963145000591 1.5857526294627957
82.33607308075236 95.6 13.139593938162076 2.511118990804682
EOD
$full0 << EOD
100.0 94.85 0 2.628659501899601
EOD
$full1 << EOD
100.0 98.75 0 0.9722598381573438
EOD
$ms0 << EOD
-0.12 0.3903 0.057043502439075765
0.88 0.71 0.09612437901345375
1.88 1.0231999999999999 0.10875610563866747
2.88 1.6278000000000001 0.18366301549760278
3.88 1.7159 0.19118416494079543
EOD
$ms1 << EOD
0.12 0.4282 0.028003276320360954
1.12 0.7478 0.08188731188933503
2.12 1.0775000000000001 0.056502881820015
3.12 1.6862000000000001 0.1543682817296662
4.12 1.9271999999999998 0.06619171332727075
EOD
set multiplot layout 1,2 title "Accuracy, FLOPs and latency, data.checkpoint = resnet20, data.labelled = 1.0"
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
