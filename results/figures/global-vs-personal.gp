# Per-user gain over the global model
# Written by `persephone report`; redraw with: gnuplot -e "set output 'NAME.png'" NAME.gp
set terminal pngcairo size 960,620 font "sans,10"
set encoding utf8
$users << EOD
-0.18 28.000000000000004
0.04249223595000001 30.000000000000004
-0.09501552809999997 25.000000000000007
0.12747670784999998 5.000000000000004
-0.010031056199999944 7.9999999999999964
0.8200000000000001 25.0
1.04249223595 25.0
0.9049844719 9.999999999999998
1.12747670785 4.999999999999993
0.9899689438000001 3.0000000000000027
1.82 6.999999999999995
2.04249223595 12.0
1.9049844719 8.999999999999996
2.12747670785 2.0000000000000018
1.9899689438000001 4.0000000000000036
2.82 12.0
3.04249223595 21.000000000000007
2.9049844719 -7.9999999999999964
3.12747670785 3.0000000000000027
2.9899689438 2.0000000000000018
EOD
$means << EOD
0.0 19.200000000000003 14.62319662355614 "block2"
1.0 13.6 13.30377934322344 "block5"
2.0 6.8 4.919873261135397 "block8"
3.0 6.000000000000003 13.630055131013235 "policy"
EOD
set title "Per-user gain over the global model"
set ylabel "gain over the global model (percentage points)"
set xlabel "classifier (exits on the same global exit; policy on the global final classifier)"
set xrange [-0.6:3.6]
set grid ytics
set key outside top center horizontal
set arrow from graph 0, first 0 to graph 1, first 0 nohead linecolor rgb "#444444"
plot $users using 1:2 with points pointtype 7 pointsize 0.5 linecolor rgb "#8899bb" title "one user run", \
     $means using 1:2:3:xtic(4) with yerrorbars pointtype 5 pointsize 1.2 linewidth 2 linecolor rgb "#222222" title "mean ± 95% CI", \
     15.9 with lines dashtype 2 linecolor rgb "#aa3333" title "paper: up to +15.9 pts"
